// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title MockERC1271Wallet
 * @notice Test-only smart account: accepts a signature when its owner key signed the digest (ERC-1271).
 * @dev Used by the contract tests to show that smart-account patients can consent by signature.
 */
contract MockERC1271Wallet is IERC1271 {
    /// @notice The key whose signatures this account accepts.
    address public immutable OWNER;

    /// @param owner_ The key whose signatures this account accepts.
    constructor(address owner_) {
        OWNER = owner_;
    }

    /**
     * @notice ERC-1271 check: the magic value when `OWNER` signed `hash`, 0xffffffff otherwise.
     * @param hash The digest that was signed.
     * @param signature The owner's ECDSA signature.
     * @return magicValue `IERC1271.isValidSignature.selector` when valid.
     */
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4 magicValue) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == OWNER ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
