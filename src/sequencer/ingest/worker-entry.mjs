// Piscina loads workers from a JS file, and the project runs TypeScript through tsx. Register
// tsx's ESM loader in this worker, then load the real handler. Registering is harmless when the
// parent already runs under `node --import tsx` (workers inherit execArgv and would have it).
import { register } from 'tsx/esm/api'

register()
const { decodeBatch } = await import('./worker.ts')

export default decodeBatch
