import { expect } from 'chai';
import { ethers } from 'hardhat';
import { time } from '@nomicfoundation/hardhat-toolbox/network-helpers';
import { ROLES, atNextBlock, deployFixture, load } from './fixtures';

const root = (n: number): string => ethers.id(`audit-root-${n}`);

describe('HealthRecordAccessControl: anchoring the audit log', () => {
  it('only the anchor account may anchor: admin, auditors, providers and others are refused', async () => {
    const { contract, admin, auditor, provider, emergency, outsider } = await load(deployFixture);
    for (const caller of [admin, auditor, provider, emergency, outsider]) {
      await expect(contract.connect(caller).anchorAudit(root(0), 0, 9))
        .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
        .withArgs(caller.address, ROLES.ANCHOR);
    }
  });

  it('anchors the first range from position 0, announces it and records root, end and time', async () => {
    const { contract, anchor } = await load(deployFixture);
    const anchoredAt = await atNextBlock((await time.latest()) + 60);
    await expect(contract.connect(anchor).anchorAudit(root(0), 0, 9))
      .to.emit(contract, 'AuditAnchored')
      .withArgs(root(0), 0, 9);
    const stored = await contract.auditAnchor(0);
    expect(stored.root).to.equal(root(0));
    expect(stored.toPosition).to.equal(9n);
    expect(stored.anchoredAt).to.equal(BigInt(anchoredAt));
    expect(await contract.nextAuditPosition()).to.equal(10n);
  });

  it('the first range must start at position 0', async () => {
    const { contract, anchor } = await load(deployFixture);
    await expect(contract.connect(anchor).anchorAudit(root(0), 1, 9))
      .to.be.revertedWithCustomError(contract, 'InvalidAuditRange')
      .withArgs(0, 1, 9);
  });

  it('each range starts right after the previous one: gaps and overlaps are refused', async () => {
    const { contract, anchor } = await load(deployFixture);
    await contract.connect(anchor).anchorAudit(root(0), 0, 9);
    await expect(contract.connect(anchor).anchorAudit(root(1), 11, 20))
      .to.be.revertedWithCustomError(contract, 'InvalidAuditRange')
      .withArgs(10, 11, 20);
    await expect(contract.connect(anchor).anchorAudit(root(1), 9, 20))
      .to.be.revertedWithCustomError(contract, 'InvalidAuditRange')
      .withArgs(10, 9, 20);
    await expect(contract.connect(anchor).anchorAudit(root(1), 0, 20))
      .to.be.revertedWithCustomError(contract, 'InvalidAuditRange')
      .withArgs(10, 0, 20);
    await expect(contract.connect(anchor).anchorAudit(root(1), 10, 20))
      .to.emit(contract, 'AuditAnchored')
      .withArgs(root(1), 10, 20);
    expect(await contract.nextAuditPosition()).to.equal(21n);
  });

  it('refuses a range that ends before it starts, and accepts a range of a single position', async () => {
    const { contract, anchor } = await load(deployFixture);
    await contract.connect(anchor).anchorAudit(root(0), 0, 9);
    await expect(contract.connect(anchor).anchorAudit(root(1), 10, 9))
      .to.be.revertedWithCustomError(contract, 'InvalidAuditRange')
      .withArgs(10, 10, 9);
    await contract.connect(anchor).anchorAudit(root(1), 10, 10);
    expect(await contract.nextAuditPosition()).to.equal(11n);
    expect((await contract.auditAnchor(10)).toPosition).to.equal(10n);
  });

  it('refuses the zero root', async () => {
    const { contract, anchor } = await load(deployFixture);
    await expect(contract.connect(anchor).anchorAudit(ethers.ZeroHash, 0, 9)).to.be.revertedWithCustomError(
      contract,
      'InvalidAuditRoot',
    );
    expect(await contract.nextAuditPosition()).to.equal(0n);
  });

  it('a chain of anchors can be walked from 0 through auditAnchor(from).toPosition + 1', async () => {
    const { contract, anchor } = await load(deployFixture);
    const ranges: [number, number][] = [
      [0, 4],
      [5, 5],
      [6, 99],
      [100, 1000],
    ];
    for (const [i, [from, to]] of ranges.entries()) {
      await contract.connect(anchor).anchorAudit(root(i), from, to);
    }
    const walked: [bigint, bigint, string][] = [];
    let position = 0n;
    while (position < (await contract.nextAuditPosition())) {
      const a = await contract.auditAnchor(position);
      walked.push([position, a.toPosition, a.root]);
      position = a.toPosition + 1n;
    }
    expect(walked).to.deep.equal(ranges.map(([from, to], i) => [BigInt(from), BigInt(to), root(i)]));
  });

  it('a position that starts no range has no anchor', async () => {
    const { contract, anchor } = await load(deployFixture);
    await contract.connect(anchor).anchorAudit(root(0), 0, 9);
    for (const position of [5, 9, 10, 1_000_000]) {
      const a = await contract.auditAnchor(position);
      expect(a.root).to.equal(ethers.ZeroHash);
      expect(a.toPosition).to.equal(0n);
      expect(a.anchoredAt).to.equal(0n);
    }
  });

  it('a removed anchor account can no longer anchor', async () => {
    const { contract, admin, anchor } = await load(deployFixture);
    await contract.connect(admin).revokeRole(ROLES.ANCHOR, anchor.address);
    await expect(contract.connect(anchor).anchorAudit(root(0), 0, 9))
      .to.be.revertedWithCustomError(contract, 'AccessControlUnauthorizedAccount')
      .withArgs(anchor.address, ROLES.ANCHOR);
  });
});
