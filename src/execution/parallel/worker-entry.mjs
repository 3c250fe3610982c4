// Worker threads load JavaScript; the project runs TypeScript through tsx: register it, then serve.
import { register } from 'tsx/esm/api'

register()
const { serveExecutionRequests } = await import('./worker.ts')
await serveExecutionRequests()
