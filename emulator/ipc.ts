/**
 * The messages between the pool process and the emulator process it forks (emulator/child.ts,
 * emulator/process.ts), over Node's IPC channel (JSON). The pool owns the local chain; the
 * emulator asks it to send its proxy's payouts. Amounts are nanoTON as decimal strings, cells
 * base64 BoC, addresses raw (`0:<hex>`), lt decimal strings, hashes hex. Each side checks what it
 * receives against these schemas before acting on it.
 */
import Type, { type Static } from 'typebox';
import Compile from 'typebox/compile';

const Raw = Type.String({ pattern: '^-?\\d+:[0-9a-fA-F]{64}$' });
const Nano = Type.String({ pattern: '^\\d{1,40}$' });

/** What the emulator process is started with (emulator/pool.ts EmulatedPoolOptions, on the wire). */
export const EmulatorStartOptions = Type.Object(
  {
    dataDir: Type.String({ minLength: 1 }),
    workers: Type.Integer({ minimum: 1 }),
    participants: Type.Array(Raw, { minItems: 1 }),
    basePort: Type.Integer({ minimum: 0, maximum: 65535 }),
    seed: Type.Integer({ minimum: 0 }),
    requestsPerSecond: Type.Number({ minimum: 0 }),
    faults: Type.Boolean(),
    workerFeePerToken: Nano,
    autoPayThresholdNanoton: Nano,
    proxyPayIntervalMs: Type.Number({ exclusiveMinimum: 0 }),
    pool: Raw,
    proxy: Raw,
    proxyWallet: Type.String({ minLength: 1 }),
    /** raw owner address → its worker contract's `tokens` at start (adjusted tokens, decimal); absent = 0 */
    workerContractTokens: Type.Record(Raw, Type.String({ pattern: '^(0|[1-9][0-9]{0,19})$' })),
    logLevel: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type EmulatorStartOptions = Static<typeof EmulatorStartOptions>;

const WireMessage = Type.Object(
  { to: Raw, value: Nano, body: Type.Union([Type.String(), Type.Null()]), bounce: Type.Boolean() },
  { additionalProperties: false },
);
export type WireMessage = Static<typeof WireMessage>;

const WireTransaction = Type.Object(
  {
    address: Raw,
    lt: Nano,
    hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    aborted: Type.Boolean(),
    computeSuccess: Type.Boolean(),
    exitCode: Type.Union([Type.Integer(), Type.Null()]),
    actionResultCode: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type WireTransaction = Static<typeof WireTransaction>;

/** emulator process → pool process */
export const FromEmulator = Type.Union([
  Type.Object({ type: Type.Literal('ready'), url: Type.String({ pattern: '^http://' }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('failed'), error: Type.String() }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('send'), id: Type.Integer({ minimum: 1 }), wallet: Type.String({ minLength: 1 }), messages: Type.Array(WireMessage, { minItems: 1, maxItems: 255 }) },
    { additionalProperties: false },
  ),
]);
export type FromEmulator = Static<typeof FromEmulator>;

/** pool process → emulator process */
export const ToEmulator = Type.Union([
  Type.Object({ type: Type.Literal('start'), options: EmulatorStartOptions }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('sent'), id: Type.Integer({ minimum: 1 }), transactions: Type.Array(WireTransaction) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('sent'), id: Type.Integer({ minimum: 1 }), error: Type.String() }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('stop') }, { additionalProperties: false }),
]);
export type ToEmulator = Static<typeof ToEmulator>;

const fromEmulator = Compile(FromEmulator);
const toEmulator = Compile(ToEmulator);

/** A message on the IPC channel that is none of the expected ones. */
export class IpcMessageError extends Error {
  override name = 'IpcMessageError';
}

function check<T>(validator: { Check(v: unknown): boolean; Errors(v: unknown): Iterable<{ instancePath: string; message: string }> }, what: string, value: unknown): T {
  if (validator.Check(value)) return value as T;
  const first = [...validator.Errors(value)][0];
  throw new IpcMessageError(`${what}: not a valid message${first ? ` (${first.instancePath || '/'} ${first.message})` : ''}: ${JSON.stringify(value)?.slice(0, 300)}`);
}

/** @throws IpcMessageError when `value` is not a {@link FromEmulator} message. */
export const readFromEmulator = (value: unknown): FromEmulator => check(fromEmulator, 'from the emulator process', value);
/** @throws IpcMessageError when `value` is not a {@link ToEmulator} message. */
export const readToEmulator = (value: unknown): ToEmulator => check(toEmulator, 'from the pool process', value);
