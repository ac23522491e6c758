/**
 * Chain values to and from the IPC wire shapes of emulator/ipc.ts (pure). A message with a
 * StateInit is not carried (the emulated proxy never deploys).
 */
import { Address, Cell } from '@ton/core';
import type { OutgoingMessage, SentTransaction } from '../chain/client.ts';
import type { WireMessage, WireTransaction } from './ipc.ts';

/** @throws TypeError for a message carrying a StateInit. */
export function messageToWire(m: OutgoingMessage): WireMessage {
  if (m.init) throw new TypeError('a message with a StateInit is not sent through the emulator channel');
  return { to: m.to.toRawString(), value: m.value.toString(), body: m.body ? m.body.toBoc().toString('base64') : null, bounce: m.bounce ?? true };
}

/** @throws Error when `body` is not a BoC of one root cell. */
export function messageFromWire(m: WireMessage): OutgoingMessage {
  return { to: Address.parse(m.to), value: BigInt(m.value), body: m.body === null ? undefined : Cell.fromBoc(Buffer.from(m.body, 'base64'))[0]!, bounce: m.bounce };
}

export function transactionToWire(t: SentTransaction): WireTransaction {
  return { address: t.address.toRawString(), lt: t.lt.toString(), hash: t.hash.toString('hex'), aborted: t.aborted, computeSuccess: t.computeSuccess, exitCode: t.exitCode, actionResultCode: t.actionResultCode };
}

export function transactionFromWire(t: WireTransaction): SentTransaction {
  return { address: Address.parse(t.address), lt: BigInt(t.lt), hash: Buffer.from(t.hash, 'hex'), aborted: t.aborted, computeSuccess: t.computeSuccess, exitCode: t.exitCode, actionResultCode: t.actionResultCode };
}
