/**
 * Normalized hash of an external-in message, TEP-467
 * (https://github.com/ton-blockchain/TEPs/blob/master/text/0467-normalized-message-hash.md).
 *
 * A relaying node may repack an external message (set `src`, `import_fee`, drop or move `init`,
 * inline or reference the body) without changing what it does, so the plain message hash of the
 * transaction's in-message may differ from the hash of what was signed. The normalized hash does
 * not: it is the representation hash of the message re-serialized with `src = addr_none$00`,
 * `import_fee = 0`, `init = nothing$0` and the body always as a reference (`^X`). It is what TON
 * Center v3 reports as `hash_norm` / `message_hash_norm`, and how the pool finds the wallet
 * transaction of a message it submitted (chain/client.ts `SubmittedMessage`).
 */
import { beginCell, Cell, loadMessage, storeMessage, type Message } from '@ton/core';

/**
 * `message`: an external-in message, as a @ton/core `Message` (e.g. `Transaction.inMessage`) or as
 * the Message cell that was submitted. Returns the 32-byte normalized hash.
 * @throws TypeError when the message is not external-in (internal and external-out messages have
 *   no normalized hash in TEP-467); errors of `loadMessage` for a cell that is not a Message.
 */
export function normalizedMessageHash(message: Message | Cell): Buffer {
  const m = message instanceof Cell ? loadMessage(message.beginParse()) : message;
  if (m.info.type !== 'external-in') throw new TypeError(`normalized hash is defined for external-in messages, not ${m.info.type}`);
  const normalized: Message = {
    info: { type: 'external-in', src: null, dest: m.info.dest, importFee: 0n },
    init: null,
    body: m.body,
  };
  return beginCell().store(storeMessage(normalized, { forceRef: true })).endCell().hash();
}
