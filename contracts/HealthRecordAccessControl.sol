// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/**
 * @title HealthRecordAccessControl (v2)
 * @notice Patient-controlled, time-bounded, category-scoped consent for health data, plus the record
 * registry, emergency ("break-glass") windows and the anchor of the off-chain audit log.
 * @dev No personal health information is stored or emitted: only addresses, category ids
 * (keccak256 of a category name), record ids (hashes), reason hashes and Merkle roots.
 * Patients never need gas: every patient action has an EIP-712 `...WithSig` twin that anyone may relay.
 * Every check that decides access is O(1) in the number of grants. `multicall` lets the relayer send
 * several patients' signed intents in one transaction (all or nothing).
 */
contract HealthRecordAccessControl is AccessControlDefaultAdminRules, Pausable, EIP712, Nonces, Multicall {
    /// @notice Healthcare providers that patients may grant access to.
    bytes32 public constant PROVIDER_ROLE = keccak256("PROVIDER_ROLE");
    /// @notice Emergency staff who may open a 24-hour break-glass window on a patient.
    bytes32 public constant EMERGENCY_ROLE = keccak256("EMERGENCY_ROLE");
    /// @notice Compliance officers (read-only on-chain; the role gates the off-chain audit views).
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR_ROLE");
    /// @notice The API account that anchors Merkle roots of the audit log.
    bytes32 public constant ANCHOR_ROLE = keccak256("ANCHOR_ROLE");

    /// @notice Longest grant a patient may give in one signature.
    uint64 public constant MAX_GRANT_DURATION = 365 days;
    /// @notice Length of an emergency access window.
    uint64 public constant EMERGENCY_DURATION = 24 hours;
    /// @notice Most grants one batch signature may carry (bounds the relayer's gas).
    uint256 public constant MAX_BATCH_SIZE = 50;

    bytes32 public constant GRANT_TYPEHASH =
        keccak256(
            "Grant(address patient,address provider,bytes32 category,uint64 expiresAt,uint256 nonce,uint256 deadline)"
        );
    bytes32 public constant GRANT_ITEM_TYPEHASH =
        keccak256("GrantItem(address provider,bytes32 category,uint64 expiresAt)");
    bytes32 public constant GRANT_BATCH_TYPEHASH =
        keccak256(
            "GrantBatch(address patient,GrantItem[] items,uint256 nonce,uint256 deadline)"
            "GrantItem(address provider,bytes32 category,uint64 expiresAt)"
        );
    bytes32 public constant REVOKE_TYPEHASH =
        keccak256("Revoke(address patient,address provider,bytes32 category,uint256 nonce,uint256 deadline)");
    bytes32 public constant REGISTER_RECORD_TYPEHASH =
        keccak256(
            "RegisterRecord(address patient,bytes32 recordId,bytes32 category,bytes32 supersedes,uint256 nonce,uint256 deadline)"
        );

    /// @notice One grant in a batch signed by a patient.
    /// @dev Field order is the EIP-712 `GrantItem` type's; the struct only lives in calldata.
    // solhint-disable-next-line gas-struct-packing
    struct GrantItem {
        address provider;
        bytes32 category;
        uint64 expiresAt;
    }

    /// @notice One anchored range of the audit log.
    struct AuditAnchor {
        bytes32 root;
        uint64 toPosition;
        uint64 anchoredAt;
    }

    // A grant or an emergency window in one slot: the low 64 bits hold `expiresAt`, the next 64 bits
    // the time it was given. A window or grant given before the account's current role membership
    // began is void, so removing a provider ends their grants for good, even if they are re-admitted.
    // patient => provider => category => packed grant
    mapping(address patient => mapping(address provider => mapping(bytes32 category => uint256))) private _grants;
    // patient => emergency staff => packed window
    mapping(address patient => mapping(address provider => uint256)) private _emergencyWindows;
    // role => account => when the account's current membership began
    mapping(bytes32 role => mapping(address account => uint64)) private _memberSince;
    // patient => record id => category (zero: not registered)
    mapping(address patient => mapping(bytes32 recordId => bytes32)) private _recordCategories;
    // fromPosition => anchor
    mapping(uint64 fromPosition => AuditAnchor) private _auditAnchors;
    uint64 private _nextAuditPosition;

    /// @notice A patient granted (or re-granted, changing the expiry of) access to one category.
    event AccessGranted(address indexed patient, address indexed provider, bytes32 indexed category, uint64 expiresAt);
    /// @notice A patient revoked access to one category; effective from this block.
    event AccessRevoked(address indexed patient, address indexed provider, bytes32 indexed category);
    /// @notice A patient registered an encrypted record, optionally superseding an earlier one.
    event RecordRegistered(address indexed patient, bytes32 indexed recordId, bytes32 indexed category, bytes32 supersedes);
    /// @notice An accessor with active access recorded an action on a record.
    event RecordAccessed(address indexed patient, address indexed accessor, bytes32 indexed recordId, bytes32 action);
    /// @notice Emergency staff opened a break-glass window; the reason text is kept off-chain.
    event EmergencyAccessStarted(address indexed patient, address indexed provider, bytes32 reasonHash, uint64 expiresAt);
    /// @notice An emergency window was closed before it lapsed.
    event EmergencyAccessEnded(address indexed patient, address indexed provider, address endedBy);
    /// @notice The root of the audit events in positions [fromPosition, toPosition] was anchored.
    event AuditAnchored(bytes32 indexed root, uint64 fromPosition, uint64 toPosition);

    /// @notice The account does not hold PROVIDER_ROLE.
    error NotAProvider(address account);
    /// @notice The category id is zero.
    error InvalidCategory();
    /// @notice `expiresAt` is not in (now, now + MAX_GRANT_DURATION].
    error InvalidExpiry(uint64 expiresAt);
    /// @notice The signature's deadline has passed.
    error ExpiredSignature(uint256 deadline);
    /// @notice The signature was not made by the patient over this exact message, nonce, chain and contract.
    error InvalidSignature(address patient);
    /// @notice A batch is empty or longer than MAX_BATCH_SIZE.
    error InvalidBatchSize(uint256 size);
    /// @notice There is no grant to revoke.
    error NoGrant(address patient, address provider, bytes32 category);
    /// @notice The record id is zero.
    error InvalidRecordId();
    /// @notice The patient already registered this record id.
    error RecordAlreadyRegistered(address patient, bytes32 recordId);
    /// @notice The patient has no record with this id.
    error UnknownRecord(address patient, bytes32 recordId);
    /// @notice The caller has no active access to the category.
    error NoActiveAccess(address patient, address accessor, bytes32 category);
    /// @notice An emergency access needs the hash of its reason.
    error MissingReasonHash();
    /// @notice There is no open emergency window for the pair.
    error NoEmergencyAccess(address patient, address provider);
    /// @notice Only the patient or the emergency staff member may end the window.
    error NotPatientOrProvider(address caller);
    /// @notice The audit root is zero.
    error InvalidAuditRoot();
    /// @notice The range is not contiguous with the previous anchor or is empty.
    error InvalidAuditRange(uint64 expectedFrom, uint64 fromPosition, uint64 toPosition);

    /**
     * @param initialAdminDelay Delay before a scheduled transfer of the admin role can be accepted.
     * @param initialAdmin The first admin (DEFAULT_ADMIN_ROLE).
     */
    constructor(
        uint48 initialAdminDelay,
        address initialAdmin
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) EIP712("HealthRecordAccessControl", "2") {}

    // ------------------------------------------------------------------ administration

    /**
     * @notice Stops every consent, record, emergency and anchoring action until `unpause`.
     * @dev Views keep answering. Role administration stays available so a compromised account can be
     * removed during an incident. Admin only.
     */
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Resumes the actions stopped by `pause`. Admin only.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ consent

    /**
     * @notice Grants `provider` access to the caller's `category` until `expiresAt`; re-granting replaces
     * the expiry.
     * @param provider An account holding PROVIDER_ROLE.
     * @param category keccak256 of the category name.
     * @param expiresAt Unix time when access ends: after now and at most MAX_GRANT_DURATION ahead.
     */
    function grantAccess(address provider, bytes32 category, uint64 expiresAt) external whenNotPaused {
        _grant(msg.sender, provider, category, expiresAt);
    }

    /**
     * @notice Relays a patient's EIP-712 `Grant` signature; see `grantAccess`.
     * @param patient The patient who signed.
     * @param provider An account holding PROVIDER_ROLE.
     * @param category keccak256 of the category name.
     * @param expiresAt Unix time when access ends.
     * @param deadline Last second at which the signature may be used.
     * @param signature The patient's signature over `Grant` with their current nonce.
     */
    function grantAccessWithSig(
        address patient,
        address provider,
        bytes32 category,
        uint64 expiresAt,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        _checkSignature(
            patient,
            keccak256(abi.encode(GRANT_TYPEHASH, patient, provider, category, expiresAt, _useNonce(patient), deadline)),
            deadline,
            signature
        );
        _grant(patient, provider, category, expiresAt);
    }

    /**
     * @notice Relays one EIP-712 `GrantBatch` signature covering several grants.
     * @param patient The patient who signed.
     * @param items The grants, 1 to MAX_BATCH_SIZE of them, each checked as in `grantAccess`.
     * @param deadline Last second at which the signature may be used.
     * @param signature The patient's signature over `GrantBatch` with their current nonce.
     */
    function grantAccessBatchWithSig(
        address patient,
        GrantItem[] calldata items,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        uint256 count = items.length;
        if (count == 0 || count > MAX_BATCH_SIZE) revert InvalidBatchSize(count);
        bytes32[] memory itemHashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            GrantItem calldata item = items[i];
            itemHashes[i] = keccak256(abi.encode(GRANT_ITEM_TYPEHASH, item.provider, item.category, item.expiresAt));
        }
        _checkSignature(
            patient,
            keccak256(
                abi.encode(
                    GRANT_BATCH_TYPEHASH,
                    patient,
                    keccak256(abi.encodePacked(itemHashes)),
                    _useNonce(patient),
                    deadline
                )
            ),
            deadline,
            signature
        );
        for (uint256 i; i < count; ++i) {
            GrantItem calldata item = items[i];
            _grant(patient, item.provider, item.category, item.expiresAt);
        }
    }

    /**
     * @notice Revokes the caller's grant to `provider` for `category`, effective at once.
     * @param provider The provider whose access ends.
     * @param category keccak256 of the category name.
     */
    function revokeAccess(address provider, bytes32 category) external whenNotPaused {
        _revoke(msg.sender, provider, category);
    }

    /**
     * @notice Relays a patient's EIP-712 `Revoke` signature; see `revokeAccess`.
     * @param patient The patient who signed.
     * @param provider The provider whose access ends.
     * @param category keccak256 of the category name.
     * @param deadline Last second at which the signature may be used.
     * @param signature The patient's signature over `Revoke` with their current nonce.
     */
    function revokeAccessWithSig(
        address patient,
        address provider,
        bytes32 category,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        _checkSignature(
            patient,
            keccak256(abi.encode(REVOKE_TYPEHASH, patient, provider, category, _useNonce(patient), deadline)),
            deadline,
            signature
        );
        _revoke(patient, provider, category);
    }

    /**
     * @notice Whether `provider` may access `patient`'s `category` now: a current grant for exactly that
     * category while the provider holds PROVIDER_ROLE, or an open emergency window while they hold
     * EMERGENCY_ROLE. A grant expiring at this block's timestamp is no longer active.
     * @param patient The patient.
     * @param provider The accessor.
     * @param category keccak256 of the category name.
     * @return True when access is active.
     */
    function hasActiveAccess(address patient, address provider, bytes32 category) public view returns (bool) {
        return
            _isLive(_grants[patient][provider][category], PROVIDER_ROLE, provider) ||
            _isLive(_emergencyWindows[patient][provider], EMERGENCY_ROLE, provider);
    }

    /**
     * @notice The expiry of the patient's grant, whether or not it has passed.
     * @param patient The patient.
     * @param provider The provider.
     * @param category keccak256 of the category name.
     * @return Unix time the grant ends; 0 when there is none, it was revoked, or it predates the
     * provider's current registration.
     */
    function accessExpiry(address patient, address provider, bytes32 category) external view returns (uint64) {
        uint256 grant = _grants[patient][provider][category];
        if (_startedAt(grant) < _memberSince[PROVIDER_ROLE][provider]) return 0;
        return _expiresAt(grant);
    }

    // ------------------------------------------------------------------ records

    /**
     * @notice Registers one of the caller's encrypted records under a category.
     * @param recordId The record's id (a hash of its content address); unique per patient.
     * @param category keccak256 of the category name.
     * @param supersedes Zero, or an earlier record of the caller that this one amends (the earlier one
     * stays registered).
     */
    function registerRecord(bytes32 recordId, bytes32 category, bytes32 supersedes) external whenNotPaused {
        _registerRecord(msg.sender, recordId, category, supersedes);
    }

    /**
     * @notice Relays a patient's EIP-712 `RegisterRecord` signature; see `registerRecord`.
     * @param patient The patient who signed.
     * @param recordId The record's id.
     * @param category keccak256 of the category name.
     * @param supersedes Zero or an earlier record of the patient.
     * @param deadline Last second at which the signature may be used.
     * @param signature The patient's signature over `RegisterRecord` with their current nonce.
     */
    function registerRecordWithSig(
        address patient,
        bytes32 recordId,
        bytes32 category,
        bytes32 supersedes,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        _checkSignature(
            patient,
            keccak256(
                abi.encode(
                    REGISTER_RECORD_TYPEHASH,
                    patient,
                    recordId,
                    category,
                    supersedes,
                    _useNonce(patient),
                    deadline
                )
            ),
            deadline,
            signature
        );
        _registerRecord(patient, recordId, category, supersedes);
    }

    /**
     * @notice The category a patient's record was registered under.
     * @param patient The patient.
     * @param recordId The record's id.
     * @return The category id; zero when the record is not registered.
     */
    function recordCategory(address patient, bytes32 recordId) external view returns (bytes32) {
        return _recordCategories[patient][recordId];
    }

    /**
     * @notice Records on-chain that the caller performed `action` on a patient's record. Writes no storage.
     * @param patient The record's patient.
     * @param recordId The record's id.
     * @param action An action id, e.g. keccak256("view").
     */
    function logAccess(address patient, bytes32 recordId, bytes32 action) external whenNotPaused {
        bytes32 category = _recordCategories[patient][recordId];
        if (category == bytes32(0)) revert UnknownRecord(patient, recordId);
        if (!hasActiveAccess(patient, msg.sender, category)) revert NoActiveAccess(patient, msg.sender, category);
        emit RecordAccessed(patient, msg.sender, recordId, action);
    }

    // ------------------------------------------------------------------ emergency

    /**
     * @notice Opens (or renews) a 24-hour window in which the caller may access every category of the
     * patient. EMERGENCY_ROLE only.
     * @param patient The patient in need of care.
     * @param reasonHash keccak256 of the reason text, which is kept off-chain.
     */
    function emergencyAccess(address patient, bytes32 reasonHash) external whenNotPaused onlyRole(EMERGENCY_ROLE) {
        if (reasonHash == bytes32(0)) revert MissingReasonHash();
        uint64 expiresAt = uint64(block.timestamp) + EMERGENCY_DURATION;
        _emergencyWindows[patient][msg.sender] = _pack(expiresAt);
        emit EmergencyAccessStarted(patient, msg.sender, reasonHash, expiresAt);
    }

    /**
     * @notice Closes an open emergency window. Callable by the patient or by the staff member.
     * @param patient The patient.
     * @param provider The emergency staff member.
     */
    function endEmergencyAccess(address patient, address provider) external whenNotPaused {
        if (msg.sender != patient && msg.sender != provider) revert NotPatientOrProvider(msg.sender);
        if (_expiresAt(_emergencyWindows[patient][provider]) <= block.timestamp) {
            revert NoEmergencyAccess(patient, provider);
        }
        delete _emergencyWindows[patient][provider];
        emit EmergencyAccessEnded(patient, provider, msg.sender);
    }

    /**
     * @notice When the pair's emergency window closes.
     * @param patient The patient.
     * @param provider The emergency staff member.
     * @return Unix time the window ends; 0 when none was opened or it was ended.
     */
    function emergencyExpiry(address patient, address provider) external view returns (uint64) {
        return _expiresAt(_emergencyWindows[patient][provider]);
    }

    // ------------------------------------------------------------------ audit anchoring

    /**
     * @notice Anchors the Merkle root of the audit events at positions [fromPosition, toPosition].
     * Ranges are contiguous: the first starts at 0, each next one right after the previous.
     * ANCHOR_ROLE only.
     * @param root The Merkle root of the range's leaves.
     * @param fromPosition First audit position covered.
     * @param toPosition Last audit position covered (inclusive).
     */
    function anchorAudit(
        bytes32 root,
        uint64 fromPosition,
        uint64 toPosition
    ) external whenNotPaused onlyRole(ANCHOR_ROLE) {
        if (root == bytes32(0)) revert InvalidAuditRoot();
        uint64 expectedFrom = _nextAuditPosition;
        if (fromPosition != expectedFrom || toPosition < fromPosition) {
            revert InvalidAuditRange(expectedFrom, fromPosition, toPosition);
        }
        _auditAnchors[fromPosition] = AuditAnchor(root, toPosition, uint64(block.timestamp));
        _nextAuditPosition = toPosition + 1;
        emit AuditAnchored(root, fromPosition, toPosition);
    }

    /**
     * @notice The anchor of the range starting at `fromPosition`.
     * @param fromPosition First position of an anchored range.
     * @return The anchor; a zero root when no range starts there.
     */
    function auditAnchor(uint64 fromPosition) external view returns (AuditAnchor memory) {
        return _auditAnchors[fromPosition];
    }

    /**
     * @notice The position the next anchored range must start at.
     * @return One past the last anchored position; 0 before the first anchor.
     */
    function nextAuditPosition() external view returns (uint64) {
        return _nextAuditPosition;
    }

    // ------------------------------------------------------------------ internals

    function _grant(address patient, address provider, bytes32 category, uint64 expiresAt) private {
        if (!hasRole(PROVIDER_ROLE, provider)) revert NotAProvider(provider);
        if (category == bytes32(0)) revert InvalidCategory();
        if (expiresAt <= block.timestamp || expiresAt > block.timestamp + MAX_GRANT_DURATION) {
            revert InvalidExpiry(expiresAt);
        }
        _grants[patient][provider][category] = _pack(expiresAt);
        emit AccessGranted(patient, provider, category, expiresAt);
    }

    function _revoke(address patient, address provider, bytes32 category) private {
        if (_grants[patient][provider][category] == 0) revert NoGrant(patient, provider, category);
        delete _grants[patient][provider][category];
        emit AccessRevoked(patient, provider, category);
    }

    function _registerRecord(address patient, bytes32 recordId, bytes32 category, bytes32 supersedes) private {
        if (recordId == bytes32(0)) revert InvalidRecordId();
        if (category == bytes32(0)) revert InvalidCategory();
        if (_recordCategories[patient][recordId] != bytes32(0)) revert RecordAlreadyRegistered(patient, recordId);
        if (supersedes != bytes32(0) && _recordCategories[patient][supersedes] == bytes32(0)) {
            revert UnknownRecord(patient, supersedes);
        }
        _recordCategories[patient][recordId] = category;
        emit RecordRegistered(patient, recordId, category, supersedes);
    }

    function _checkSignature(
        address patient,
        bytes32 structHash,
        uint256 deadline,
        bytes calldata signature
    ) private view {
        if (block.timestamp > deadline) revert ExpiredSignature(deadline);
        // SignatureChecker also accepts ERC-1271 signatures, so smart-account patients can consent.
        if (!SignatureChecker.isValidSignatureNowCalldata(patient, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature(patient);
        }
    }

    /// @dev Role changes also record when membership began, which voids older grants and windows.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted) _memberSince[role][account] = uint64(block.timestamp);
    }

    function _isLive(uint256 packed, bytes32 role, address account) private view returns (bool) {
        return
            _expiresAt(packed) > block.timestamp &&
            hasRole(role, account) &&
            _startedAt(packed) >= _memberSince[role][account];
    }

    function _pack(uint64 expiresAt) private view returns (uint256) {
        return (uint256(block.timestamp) << 64) | expiresAt;
    }

    function _expiresAt(uint256 packed) private pure returns (uint64) {
        return uint64(packed);
    }

    function _startedAt(uint256 packed) private pure returns (uint64) {
        return uint64(packed >> 64);
    }
}
