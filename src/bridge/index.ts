export { batchInboxAddress } from './batch-inbox.ts'
export {
  batcherHash,
  deployL1Contracts,
  deployTxStepVerifier,
  L1DeployError,
  type DeployL1ContractsParameters,
  type DisputeAnchor,
  type DisputeDeployment,
  type DisputeDeployParams,
  type L1DeployParams,
  type L1Deployment,
} from './deploy.ts'
export { anchorStateRegistryAbi } from './generated/AnchorStateRegistry.ts'
export { disputeGameFactoryAbi } from './generated/DisputeGameFactory.ts'
export { faultDisputeGameAbi } from './generated/FaultDisputeGame.ts'
export { unprovableVMAbi } from './generated/UnprovableVM.ts'
export { decodeDepositLog, readDepositEvents, TRANSACTION_DEPOSITED_TOPIC, type Deposit, type DepositLog } from './deposits.ts'
export { L1_BLOCK_CODE_HASH, L1_BLOCK_ISTHMUS_SETTER_GAS } from './l1-attributes-step.ts'
export { DEPOSITOR_ACCOUNT, L1_BLOCK_ADDRESS, L2_TO_L1_MESSAGE_PASSER_ADDRESS, l2PredeployAlloc } from './predeploys.ts'
export { optimismPortal2Abi } from './generated/OptimismPortal2.ts'
export { superchainConfigAbi } from './generated/SuperchainConfig.ts'
export { systemConfigAbi } from './generated/SystemConfig.ts'
export { l1BlockAbi } from './generated/L1Block.ts'
export { l2ToL1MessagePasserAbi } from './generated/L2ToL1MessagePasser.ts'
export {
  applyConfigUpdate,
  applyConfigUpdates,
  type BatcherTransaction,
  blobBaseFeeOf,
  CONFIG_UPDATE_TOPIC,
  fakeExponential,
  fetchBatcherTransactions,
  fetchL1BlockRef,
  fetchL1Origin,
  fetchRollupLogs,
  L1BlockNotFoundError,
  type L1Client,
  l1OriginFromBlock,
} from './l1-fetch.ts'
export { L1OriginUnavailableError, type L1Reorg, L1Watcher, L1WatcherError, type L1WatcherDeps } from './l1-watcher.ts'
export { DEFAULT_L1_WATCHER_OPTIONS, DEV_L1_POLL_MS, type L1WatcherOptions } from './l1-watcher-options.ts'
export { createL1WatcherMetrics, type L1WatcherMetrics } from './l1-watcher-metrics.ts'
export { l1Transport, l1UrlScrubber, redactL1Url } from './l1-rpc-url.ts'
