/**
 * Building blocks shared by the event definitions. Every amount is nanoTON as a decimal string
 * (JSON has no 64-bit integers); every timestamp is unix milliseconds (`…AtMs`) unless named
 * `…Seconds`; addresses are raw `<workchain>:<64 hex>`.
 */
import Type from 'typebox';

/** nanoTON as a non-negative decimal integer string, e.g. "1500000000" (1.5 TON). */
export const Nanoton = Type.String({ pattern: '^(0|[1-9][0-9]{0,39})$', description: 'nanoTON, decimal integer string' });

/** Raw TON address `0:<64 lowercase hex>` (or `-1:` for the masterchain). */
export const RawAddress = Type.String({ pattern: '^-?[0-9]{1,3}:[0-9a-f]{64}$', description: 'raw TON address' });

/** 256-bit hash as 64 lowercase hex characters (cell hash, tx hash, Cocoon request id). */
export const Hash256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** Worker id: a NATS subject token (letters, digits, `_`, `-`). */
export const WorkerId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });

/** Unix time in milliseconds. */
export const UnixMs = Type.Integer({ minimum: 0, description: 'unix time, milliseconds' });

/** Non-negative integer count. */
export const Count = Type.Integer({ minimum: 0 });

/** Epoch id: 1, 2, … (strictly sequential, as on chain). */
export const EpochId = Type.Integer({ minimum: 1, maximum: 4294967295 });

/** Logical time of a TON transaction, decimal string (u64). */
export const Lt = Type.String({ pattern: '^[0-9]{1,20}$' });

/** TON query_id (u64) as a decimal string. */
export const QueryId = Type.String({ pattern: '^[0-9]{1,20}$' });

/** A count of adjusted tokens, decimal integer string (sums exceed 2^53). */
export const Tokens = Type.String({ pattern: '^(0|[1-9][0-9]{0,39})$', description: 'adjusted tokens, decimal integer string' });

/** Reference to a JetStream object-store artifact, checked by sha256 when read. */
export const ArtifactRef = Type.Object(
  {
    bucket: Type.String(),
    name: Type.String(),
    sha256: Hash256,
    bytes: Count,
    rows: Count,
  },
  { additionalProperties: false },
);

/** Fields every chain event carries: where and when on chain it happened. */
export const ChainTx = {
  contract: RawAddress,
  txHash: Hash256,
  lt: Lt,
  chainTime: Type.Integer({ minimum: 0, description: 'transaction time, unix seconds' }),
};
