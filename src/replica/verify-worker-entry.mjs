// Piscina loads workers from a JS file, and the project runs TypeScript through tsx: register tsx's
// ESM loader in this worker, then load the real handler.
import { register } from 'tsx/esm/api'

register()
const { default: verifyTask } = await import('./verify-worker.ts')

export default verifyTask
