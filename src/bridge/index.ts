export { batchInboxAddress } from './batch-inbox.ts'
export {
  batcherHash,
  deployL1Contracts,
  L1DeployError,
  type DeployL1ContractsParameters,
  type L1DeployParams,
  type L1Deployment,
} from './deploy.ts'
export { decodeDepositLog, readDepositEvents, TRANSACTION_DEPOSITED_TOPIC, type Deposit, type DepositLog } from './deposits.ts'
export { DEPOSITOR_ACCOUNT, L1_BLOCK_ADDRESS, L2_TO_L1_MESSAGE_PASSER_ADDRESS, l2PredeployAlloc } from './predeploys.ts'
export { optimismPortal2Abi } from './generated/OptimismPortal2.ts'
export { superchainConfigAbi } from './generated/SuperchainConfig.ts'
export { systemConfigAbi } from './generated/SystemConfig.ts'
export { l1BlockAbi } from './generated/L1Block.ts'
export { l2ToL1MessagePasserAbi } from './generated/L2ToL1MessagePasser.ts'
