/**
 * Chain: facts the chain indexer (producers/chain/indexer.ts) read from the pool contracts'
 * transactions. The event id is the transaction hash. Formats of the on-chain messages and events:
 * contracts/README.md; the Cocoon payout op 0xc59a7cd3: ../tests/fixtures/cocoon (opcodes.json).
 */
import Type from 'typebox';
import { ChainTx, Count, EpochId, Hash256, Lt, Nanoton, QueryId, RawAddress, Tokens, UnixMs, WorkerId } from './common.ts';
import { defineEvent } from './define.ts';

export const PoolRevenueReceived = defineEvent({
  type: 'PoolRevenueReceived',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description:
    'TON received by the distribution contract and booked as revenue, read from the transaction\'s in-message: a ' +
    'Cocoon proxy payout (op 0xc59a7cd3, body query_id) or a plain transfer. `knownProxy` (payouts only; false for ' +
    'transfers) is true when the sender is a genuine Cocoon proxy, as its CocoonProxyChecked recorded; in events ' +
    'recorded before that check existed, when the sender was in the configured proxy list. A payout from any other ' +
    'sender is revenue of the pool but not proxy revenue (domain/revenue.ts `revenueKind`: unverified_payout). ' +
    'A cocoon wallet\'s "w" reply is not revenue: CocoonWalletFloatReturned. `countedByContract` false: the value bought less gas than the contract\'s intake (exit ' +
    '-14, or compute skipped below the flat gas price), so the transaction failed and the value stayed on the ' +
    'balance outside the contract\'s revenue counter (a ChainTransactionFailed comes with it); absent in events ' +
    'recorded before the field existed, which were all counted by the contract.',
  data: Type.Object(
    {
      ...ChainTx,
      kind: Type.Union([Type.Literal('cocoon_payout'), Type.Literal('transfer')]),
      sender: RawAddress,
      amountNanoton: Nanoton,
      queryId: Type.Union([QueryId, Type.Null()]),
      knownProxy: Type.Boolean(),
      countedByContract: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
});

export const MemberRevenueReceived = defineEvent({
  type: 'MemberRevenueReceived',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description:
    'Revenue the distribution contract booked as one member\'s, read from the transaction\'s in-message: a message ' +
    'from that member\'s forwarder (contracts/member_forwarder.tact), whose address the contract recomputed from ' +
    '(distribution, `member`) and found equal to the sender, as jetton wallets check each other. `kind` payout: the ' +
    'forwarder relayed one Cocoon payout (op 0xc59a7cd3) it received from `proxy`, which paid it `paidNanoton` with ' +
    '`queryId`; backlog: anyone flushed what the forwarder held (payouts that bounced or arrived before it was ' +
    'deployed), `proxy` and `paidNanoton` null. `amountNanoton`: what the distribution received (the payout less the ' +
    'forwarder\'s gas and forward fee). `knownProxy`: the proxy is a genuine Cocoon proxy, as its CocoonProxyChecked ' +
    'recorded (backlog: false). `workerFeePerTokenNanoton`: that proxy\'s worker_fee_per_token from the same check, ' +
    'null when not known; with it `verifiedTokens` = floor(paidNanoton / workerFeePerTokenNanoton), the adjusted ' +
    'tokens the network paid this member for (Cocoon pays exactly Δtokens × worker_fee_per_token), else null. ' +
    '`countedByContract` as for PoolRevenueReceived. Also pool revenue: it counts for the epoch like a PoolRevenueReceived.',
  data: Type.Object(
    {
      ...ChainTx,
      kind: Type.Union([Type.Literal('payout'), Type.Literal('backlog')]),
      member: RawAddress,
      forwarder: RawAddress,
      proxy: Type.Union([RawAddress, Type.Null()]),
      paidNanoton: Type.Union([Nanoton, Type.Null()]),
      amountNanoton: Nanoton,
      queryId: QueryId,
      knownProxy: Type.Boolean(),
      workerFeePerTokenNanoton: Type.Union([Nanoton, Type.Null()]),
      verifiedTokens: Type.Union([Type.String({ pattern: '^(0|[1-9][0-9]{0,39})$', description: 'adjusted tokens, decimal integer string' }), Type.Null()]),
      countedByContract: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
});

export const CocoonProxyChecked = defineEvent({
  type: 'CocoonProxyChecked',
  version: 1,
  context: 'chain',
  aggregate: '`proxies` (one subject, pool.chain.proxies)',
  aggregateId: () => 'proxies',
  description:
    'The chain indexer checked, once, whether the sender of a Cocoon payout (op 0xc59a7cd3) is a genuine Cocoon proxy: ' +
    'its code hash (`codeHash`, null when the account is not active) against the proxy code hashes the Cocoon root ' +
    '`root` has published (`rootProxyHashes`: params version → proxy_sc_hash, from get_cur_params, the ones seen so far). ' +
    '`genuine`: the payouts of that sender are proxy revenue; `refused`: they are revenue of another kind. Replaying ' +
    'the stream reads the verdict from here, never from the chain. `txHash` is the payout transaction that asked.',
  data: Type.Object(
    {
      root: RawAddress,
      sender: RawAddress,
      verdict: Type.Union([Type.Literal('genuine'), Type.Literal('refused')]),
      accountState: Type.Union([Type.Literal('active'), Type.Literal('uninit'), Type.Literal('frozen'), Type.Literal('none')]),
      codeHash: Type.Union([Hash256, Type.Null()]),
      rootProxyHashes: Type.Array(
        Type.Object({ paramsVersion: Type.Integer({ minimum: 0, maximum: 4294967295 }), proxyCodeHash: Hash256 }, { additionalProperties: false }),
        { minItems: 1 },
      ),
      workerFeePerTokenNanoton: Type.Optional(Type.Union([Nanoton, Type.Null()], { description: 'worker_fee_per_token of the params version whose proxy code hash matched (genuine), else null; absent in checks recorded before it was read' })),
      txHash: Hash256,
      checkedAtChainTime: Type.Integer({ minimum: 0, description: 'chain time of the check, unix seconds' }),
    },
    { additionalProperties: false },
  ),
});

export const WorkerTokensChecked = defineEvent({
  type: 'WorkerTokensChecked',
  version: 1,
  context: 'chain',
  aggregate: '`worker-tokens` (one subject, pool.chain.worker-tokens)',
  aggregateId: () => 'worker-tokens',
  description:
    "The pool read, on chain, the Cocoon worker contract a worker's /jsonstats names (`proxies[].sc_address`) and " +
    'compared its `tokens` (get_cocoon_worker_data: the cumulative adjusted tokens its proxy has paid the owner for) ' +
    'with the `cached_out_tokens` the worker claims (producers/chain/workerTokens.ts). Only for a proxy recorded as ' +
    "genuine with a known worker_fee_per_token (CocoonProxyChecked). `genuine`: the account's code hash is a " +
    "`worker_sc_hash` of the Cocoon root and its owner and proxy are the worker's owner_address and that proxy. " +
    "`consistent`: genuine and the claim is at most the contract's tokens plus `toleranceTokens` (the chain is " +
    'read after the sample and tokens never decrease, so an honest claim never exceeds it); otherwise a ' +
    'WorkerTokensDiverged comes with it. `paidNanoton` = onChainTokens × workerFeePerTokenNanoton, what the network ' +
    'paid that owner through that proxy. Replaying reads it from here, never from the chain.',
  data: Type.Object(
    {
      workerId: WorkerId,
      sampleAtMs: UnixMs,
      ownerAddress: RawAddress,
      proxy: RawAddress,
      workerContract: RawAddress,
      claimedTokens: Tokens,
      accountState: Type.Union([Type.Literal('active'), Type.Literal('uninit'), Type.Literal('frozen'), Type.Literal('none')]),
      codeHash: Type.Union([Hash256, Type.Null()]),
      genuine: Type.Boolean(),
      onChainOwner: Type.Union([RawAddress, Type.Null()]),
      onChainProxy: Type.Union([RawAddress, Type.Null()]),
      onChainTokens: Type.Union([Tokens, Type.Null()], { description: 'null when the contract is not genuine or did not answer' }),
      workerFeePerTokenNanoton: Nanoton,
      paidNanoton: Type.Union([Nanoton, Type.Null()]),
      toleranceTokens: Tokens,
      consistent: Type.Boolean(),
      checkedAtChainTime: Type.Integer({ minimum: 0, description: 'chain time of the read, unix seconds' }),
    },
    { additionalProperties: false },
  ),
});

export const WorkerTokensDiverged = defineEvent({
  type: 'WorkerTokensDiverged',
  version: 1,
  context: 'chain',
  aggregate: '`worker-tokens` (one subject, pool.chain.worker-tokens)',
  aggregateId: () => 'worker-tokens',
  description:
    "An anomaly: a worker's /jsonstats `cached_out_tokens` is not what its worker contract holds. `claims-more-than-paid`: " +
    'the worker claims more tokens cashed out than the contract was paid for (beyond the tolerance); ' +
    "`not-genuine-contract`: the contract it names does not have the root's worker code; `not-its-contract`: the " +
    'contract belongs to another owner or proxy. Raised when a worker turns divergent or its reason changes, beside ' +
    'the WorkerTokensChecked that found it; an error log and `pool_worker_tokens_divergences_total` go with it.',
  data: Type.Object(
    {
      workerId: WorkerId,
      reason: Type.Union([Type.Literal('claims-more-than-paid'), Type.Literal('not-genuine-contract'), Type.Literal('not-its-contract')]),
      ownerAddress: RawAddress,
      proxy: RawAddress,
      workerContract: RawAddress,
      claimedTokens: Tokens,
      onChainTokens: Type.Union([Tokens, Type.Null()]),
      sampleAtMs: UnixMs,
    },
    { additionalProperties: false },
  ),
});

export const CocoonWalletFloatReturned = defineEvent({
  type: 'CocoonWalletFloatReturned',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description:
    'The distribution contract received a cocoon wallet\'s bounceable "w" reply (op 0 + text "w": it withdraws all but ' +
    '0.01 TON to its owner, cocoon_wallet `TextCommand` 119). That is the gas float of the member whose worker uses ' +
    'the wallet (the wallet\'s owner_address is the pool because the worker\'s is), not pool revenue: it is owed to ' +
    'that member (projectors/revenueFloats.ts). The contract counted the value in its own revenue counter ' +
    '(`countedByContract`, as for PoolRevenueReceived).',
  data: Type.Object(
    { ...ChainTx, wallet: RawAddress, amountNanoton: Nanoton, countedByContract: Type.Boolean() },
    { additionalProperties: false },
  ),
});

export const EpochRootCommitted = defineEvent({
  type: 'EpochRootCommitted',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'The distribution contract stored an epoch\'s Merkle root (rewards dictionary cell hash).',
  data: Type.Object(
    {
      ...ChainTx,
      queryId: QueryId,
      epochId: EpochId,
      merkleRoot: Hash256,
      leafCount: Count,
      totalNanoton: Nanoton,
      operatorFeeNanoton: Nanoton,
    },
    { additionalProperties: false },
  ),
});

const Payout = Type.Object(
  { index: Count, address: RawAddress, amountNanoton: Nanoton },
  { additionalProperties: false },
);

export const RewardBatchPaid = defineEvent({
  type: 'RewardBatchPaid',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description:
    'A proof-verified push payout batch: the leaves [fromIndex, fromIndex+count) not claimed before were paid, ' +
    'one non-bounceable message each (`payouts`, read from the transaction\'s out-messages).',
  data: Type.Object(
    {
      ...ChainTx,
      queryId: QueryId,
      epochId: EpochId,
      fromIndex: Count,
      count: Count,
      paidCount: Count,
      paidAmountNanoton: Nanoton,
      payouts: Type.Array(Payout),
    },
    { additionalProperties: false },
  ),
});

export const RewardClaimed = defineEvent({
  type: 'RewardClaimed',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'A pull claim with a single-leaf proof paid one leaf.',
  data: Type.Object(
    {
      ...ChainTx,
      queryId: QueryId,
      epochId: EpochId,
      index: Count,
      address: RawAddress,
      amountNanoton: Nanoton,
    },
    { additionalProperties: false },
  ),
});

export const OperatorFeeWithdrawn = defineEvent({
  type: 'OperatorFeeWithdrawn',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'The owner withdrew accumulated operator fees.',
  data: Type.Object(
    { ...ChainTx, queryId: QueryId, amountNanoton: Nanoton, to: RawAddress },
    { additionalProperties: false },
  ),
});

export const ChainTransactionFailed = defineEvent({
  type: 'ChainTransactionFailed',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description:
    'A transaction of a pool contract aborted (compute or action phase failed): a refused commit, a replayed ' +
    'batch, an unauthorised sender, a payout too small to run the intake. The contract\'s state did not change; the ' +
    'value stayed on its balance unless the message bounced (a revenue message\'s value is booked by the ' +
    'PoolRevenueReceived that follows it). Recorded for sagas and audits.',
  data: Type.Object(
    {
      ...ChainTx,
      sender: Type.Union([RawAddress, Type.Null()]),
      op: Type.Union([Type.String({ pattern: '^0x[0-9a-f]{8}$' }), Type.Null()]),
      queryId: Type.Union([QueryId, Type.Null()]),
      exitCode: Type.Integer(),
      valueNanoton: Nanoton,
    },
    { additionalProperties: false },
  ),
});

export const DistributionPaused = defineEvent({
  type: 'DistributionPaused',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'The owner paused the distribution contract: commits, payouts, claims and fee withdrawals are refused; revenue still counts.',
  data: Type.Object({ ...ChainTx, queryId: QueryId }, { additionalProperties: false }),
});

export const DistributionResumed = defineEvent({
  type: 'DistributionResumed',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'The owner resumed the distribution contract.',
  data: Type.Object({ ...ChainTx, queryId: QueryId }, { additionalProperties: false }),
});

export const GasToppedUp = defineEvent({
  type: 'GasToppedUp',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'The owner added balance to the distribution contract for gas and storage (not revenue).',
  data: Type.Object({ ...ChainTx, queryId: QueryId, amountNanoton: Nanoton }, { additionalProperties: false }),
});

// ---- ParticipantRegistry and PoolOperator (subjects pool.chain.registry, pool.chain.operator) ----

export const ParticipantRegistered = defineEvent({
  type: 'ParticipantRegistered',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'A participant joined the registry through PoolOperator with its stake, GPU spec hash and count, and optionally its Cocoon worker owner address.',
  data: Type.Object(
    {
      ...ChainTx,
      queryId: QueryId,
      participant: RawAddress,
      stakeNanoton: Nanoton,
      gpuSpecHash: Hash256,
      gpuCount: Count,
      worker: Type.Union([RawAddress, Type.Null()]),
    },
    { additionalProperties: false },
  ),
});

export const StakeDeposited = defineEvent({
  type: 'StakeDeposited',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'A participant increased its stake (`stakeNanoton` is the new stake).',
  data: Type.Object(
    { ...ChainTx, queryId: QueryId, participant: RawAddress, amountNanoton: Nanoton, stakeNanoton: Nanoton, status: Count },
    { additionalProperties: false },
  ),
});

export const WithdrawalRequested = defineEvent({
  type: 'WithdrawalRequested',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'A participant asked to withdraw stake; it can complete at `unlockAt` (unix seconds), after the timelock.',
  data: Type.Object(
    { ...ChainTx, queryId: QueryId, participant: RawAddress, amountNanoton: Nanoton, unlockAt: Type.Integer({ minimum: 0 }) },
    { additionalProperties: false },
  ),
});

export const WithdrawalCompleted = defineEvent({
  type: 'WithdrawalCompleted',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description: 'A stake withdrawal was paid; `stakeNanoton` is what is left (0: the participant left).',
  data: Type.Object(
    { ...ChainTx, queryId: QueryId, participant: RawAddress, amountNanoton: Nanoton, stakeNanoton: Nanoton },
    { additionalProperties: false },
  ),
});

export const ParticipantSlashed = defineEvent({
  type: 'ParticipantSlashed',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description:
    'The owner slashed a participant\'s stake (reason code, remaining stake and status). It also forfeits the ' +
    'participant\'s rewards of the epoch in which it is stored and lowers its reputation (domain/rewards.ts, domain/reputation.ts).',
  data: Type.Object(
    {
      ...ChainTx,
      queryId: QueryId,
      participant: RawAddress,
      amountNanoton: Nanoton,
      reason: Count,
      stakeNanoton: Nanoton,
      status: Count,
    },
    { additionalProperties: false },
  ),
});

export const PoolGovernanceChanged = defineEvent({
  type: 'PoolGovernanceChanged',
  version: 1,
  context: 'chain',
  aggregate: 'contract name',
  aggregateId: null,
  description:
    'Any other state change of PoolOperator or ParticipantRegistry, by its contract event name (contracts/README.md ' +
    '"Events"): ParamsProposed, ParamsApplied, ParamsCancelled, RegistrationOpenSet, PoolPaused, PoolResumed, ' +
    'RegistrationForwarded, RegistrationRefused, WorkerBound, ReputationSet, SlashedFundsWithdrawn, RegistryParamsSet, ' +
    'RegistryPausedSet, RegistryMessageBounced, BouncedRefunded. Fields are the event\'s, as strings (addresses raw).',
  data: Type.Object(
    { ...ChainTx, event: Type.String({ pattern: '^[A-Za-z]{1,64}$' }), fields: Type.Record(Type.String(), Type.String()) },
    { additionalProperties: false },
  ),
});

export const PoolContractsDeployed = defineEvent({
  type: 'PoolContractsDeployed',
  version: 1,
  context: 'chain',
  aggregate: '`contracts` (one subject, pool.chain.contracts)',
  aggregateId: () => 'contracts',
  description:
    'The chain this stream\'s history belongs to: the pool contracts\' addresses and the distribution contract\'s ' +
    'first transaction (its deploy; hash and lt are unique to one chain), recorded when the contracts are first ' +
    'deployed or first seen. Every start compares it with the chain it opens (chain/poolContracts.ts) and refuses ' +
    'another chain.',
  data: Type.Object(
    { distribution: RawAddress, operator: RawAddress, registry: RawAddress, deployTxHash: Hash256, deployLt: Lt },
    { additionalProperties: false },
  ),
});

export const OperatorMessageProcessed = defineEvent({
  type: 'OperatorMessageProcessed',
  version: 1,
  context: 'chain',
  aggregate: 'wallet name',
  aggregateId: null,
  description:
    'The operator\'s highload wallet v3 ran a transaction for an external message (indexed on ' +
    '`pool.chain.operator-wallet`): `normalizedHash` (TEP-467) names the message, `walletQueryId` its query_id ' +
    '(shift << 10 | bit_number, null when the body could not be read). Once this exists the message can never run ' +
    'again. `outMessages` counts what the transaction sent (the internal_transfer to itself; 0 when its action phase ' +
    'could not send it: the query_id is spent and nothing goes out).',
  data: Type.Object(
    {
      ...ChainTx,
      normalizedHash: Hash256,
      walletQueryId: Type.Union([Type.Integer({ minimum: 0, maximum: 8388607 }), Type.Null()]),
      aborted: Type.Boolean(),
      outMessages: Count,
    },
    { additionalProperties: false },
  ),
});

export const OperatorTransferExecuted = defineEvent({
  type: 'OperatorTransferExecuted',
  version: 1,
  context: 'chain',
  aggregate: 'wallet name',
  aggregateId: null,
  description:
    'The operator\'s highload wallet v3 ran the internal_transfer it sent itself (op 0xae42e5a4) for query_id ' +
    '`walletQueryId`: `outMessages` messages went out; `aborted` true (action phase failed, e.g. balance too low) ' +
    'means none did — the all-or-nothing out-action list of that query_id was not sent.',
  data: Type.Object(
    {
      ...ChainTx,
      walletQueryId: Type.Integer({ minimum: 0, maximum: 8388607 }),
      aborted: Type.Boolean(),
      outMessages: Count,
      actionResultCode: Type.Union([Type.Integer(), Type.Null()]),
    },
    { additionalProperties: false },
  ),
});
