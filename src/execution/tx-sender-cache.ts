import { AccessList2930Tx, Blob4844Tx, EOACode7702Tx, FeeMarket1559Tx, LegacyTx } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'

/**
 * ethereumjs derives `getSenderAddress()` afresh on every call, hashing the public key with noble's
 * JS keccak (~30 µs); `runTx` and receipt building call it several times per transaction. Memoize it
 * per transaction object and hash natively. The public key itself is cached by ethereumjs (or pre-set
 * by our ingest workers), so the address is a pure function of the object.
 */
const senders = new WeakMap<object, Address>()

/** Records a sender already recovered elsewhere (an ingest worker), so `getSenderAddress()` does not hash again. */
export function seedSenderAddress(tx: object, sender: Address): void {
  senders.set(tx, sender)
}

for (const TxClass of [LegacyTx, AccessList2930Tx, FeeMarket1559Tx, Blob4844Tx, EOACode7702Tx]) {
  Object.defineProperty(TxClass.prototype, 'getSenderAddress', {
    configurable: true,
    writable: true,
    value: function getSenderAddress(this: InstanceType<typeof TxClass>): Address {
      let sender = senders.get(this)
      if (sender === undefined) {
        sender = new Address(keccak256(this.getSenderPublicKey()).subarray(12))
        senders.set(this, sender)
      }
      return sender
    },
  })
}
