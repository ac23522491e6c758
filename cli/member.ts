/**
 * `pool member address <wallet>`: the member's forwarder (contracts/forwarder.ts, issue 11) for the
 * pool's distribution contract — the address a member sets as `owner_address` of its Cocoon
 * workers, so that the chain says which member earned each payout. Pure: nothing is read from or
 * sent to a chain; anyone can recompute it from the member's wallet, the distribution's address
 * and the published forwarder code.
 */
import { Address } from '@ton/core';
import { poolContractPlan } from '../chain/poolContracts.ts';
import type { PoolConfig } from '../config/config.ts';
import { memberForwarderAddress } from '../contracts/forwarder.ts';
import { localOperatorWallet } from './start.ts';

/** A wallet or distribution address that does not parse, or no distribution to derive from. */
export class MemberAddressError extends Error {
  override name = 'MemberAddressError';
}

function parse(what: string, value: string): Address {
  try {
    return Address.parse(value);
  } catch {
    throw new MemberAddressError(`${what} ${JSON.stringify(value)} is not a TON address (raw 0:<64 hex> or user-friendly)`);
  }
}

/**
 * The distribution contract whose forwarders are asked for: `--distribution`, else the configured
 * `chain.contracts.distribution` (`pool deploy` writes it), else on the local chain the one
 * `pool start` deploys (derived from the local operator wallet and `chain.poolId`).
 * @throws MemberAddressError when none of them applies or the address does not parse.
 */
export async function poolDistribution(config: PoolConfig, flag: string | undefined): Promise<Address> {
  if (flag !== undefined) return parse('--distribution', flag);
  if (config.chain.contracts.distribution) return parse('chain.contracts.distribution', config.chain.contracts.distribution);
  if (config.chain.network === 'local') return (await poolContractPlan(localOperatorWallet().address, BigInt(config.chain.poolId))).contracts.distribution;
  throw new MemberAddressError(`no distribution contract for network ${config.chain.network}: pass --distribution <address> or set chain.contracts.distribution in the config file (pool deploy writes it)`);
}

/**
 * Prints (through `out`, one line each) the forwarder of `wallet` for `distribution`: raw and
 * user-friendly (bounceable; test-only flag off mainnet), and the line telling the member to set it
 * as its workers' `owner_address` (Cocoon worker.conf `owner_address`, the `$OWNER_ADDRESS` of
 * worker-config.json).
 * @throws MemberAddressError when `wallet` is not a TON address.
 */
export async function memberAddressCommand(config: PoolConfig, wallet: string, distribution: Address, out: (line: string) => void): Promise<void> {
  const member = parse('member wallet', wallet);
  const forwarder = await memberForwarderAddress(distribution, member);
  const testOnly = config.chain.network !== 'mainnet';
  out(`member wallet: ${member.toString({ testOnly })}`);
  out(`pool distribution contract: ${distribution.toString({ testOnly })}`);
  out(`forwarder (network ${config.chain.network}):`);
  out(`  raw: ${forwarder.toRawString()}`);
  out(`  friendly: ${forwarder.toString({ testOnly })}`);
  out(`set it as owner_address of every Cocoon worker of this member (worker.conf: owner_address = ${forwarder.toString({ testOnly })}; OWNER_ADDRESS of worker-config.json): the proxy then pays your workers' earnings to your forwarder, which books them as yours at the pool; everything else it receives (your cocoon wallets' "w" replies) goes on to your wallet`);
}
