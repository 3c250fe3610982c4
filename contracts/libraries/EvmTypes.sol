// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice What the re-execution of one L2 transaction's message on L1 works on (issue 18): the block context, the
///         message, and a table of every account, storage slot and block hash the message reads or writes, each with
///         its value before the message. The step verifier proves the tables against the pre-state root, the
///         interpreter (`IEvmInterpreter`) executes over them in memory, and the verifier writes what changed back
///         into the tries. Entries the message never touches are allowed; an entry it needs and does not find makes
///         the interpreter revert (`MissingAccount`, `MissingSlot`, `MissingBlockHash`): a wrong input, not a verdict.

/// @notice The block context the environment opcodes read.
struct EvmBlock {
    address coinbase;
    uint64 number;
    uint64 timestamp;
    uint64 gasLimit;
    uint256 baseFee;
    uint256 blobBaseFee;
    bytes32 prevRandao;
    uint256 chainId;
}

/// @notice One account before the message (in `EvmResult`: after it).
/// @dev    `exists`: the account is in the state trie (EIP-161 tells apart a missing account and an empty one).
///         `code`: the runtime code (an EIP-7702 delegated account's is its 23-byte designator).
///         `hasStorage`: its storage root is not the empty trie's (EIP-7610: a creation there collides).
struct EvmAccount {
    address addr;
    bool exists;
    uint64 nonce;
    uint256 balance;
    bytes code;
    bool hasStorage;
}

/// @notice One storage slot before the message (its EIP-2200 original value); in `EvmResult`, after it.
struct EvmSlot {
    address addr;
    bytes32 key;
    bytes32 value;
}

/// @notice A slot warmed before the message starts (EIP-2930 access lists).
struct EvmSlotKey {
    address addr;
    bytes32 key;
}

/// @notice The hash of an earlier block, for BLOCKHASH (only the 256 blocks before the current one are readable).
struct EvmBlockHash {
    uint64 number;
    bytes32 hash;
}

/// @notice The transaction's message, after the transaction-level work the verifier does itself (the sender's nonce
///         bump, the gas purchase, EIP-7702 authorizations, intrinsic gas).
/// @dev    `to` is ignored when `isCreate` (the created address follows from `caller` and its nonce before the bump,
///         given as `createNonce`). `gas` is what the message may spend (the gas limit less intrinsic gas).
///         `warmAddresses` and `warmSlots`: what EIP-2929/2930/3651 warm before execution (origin, recipient,
///         coinbase, precompiles, the access list, an EIP-7702 delegation's target).
struct EvmMessage {
    address origin;
    uint256 gasPrice;
    address caller;
    address to;
    bool isCreate;
    uint64 createNonce;
    uint256 value;
    bytes data;
    uint64 gas;
    address[] warmAddresses;
    EvmSlotKey[] warmSlots;
    bytes32[] blobHashes;
}

/// @notice One log the message emitted (logs of reverted frames are dropped).
struct EvmLog {
    address addr;
    bytes32[] topics;
    bytes data;
}

/// @notice The message's outcome.
/// @dev    `refund`: EIP-3529's refund counter, uncapped (the verifier applies the cap of a fifth).
///         `created`: the created contract's address (a creation that succeeded), else zero.
///         `accounts` and `slots`: the input tables after the message, in the input's order. An account with
///         `exists == false` is not in the state after the message (never created, or deleted by an EIP-6780
///         SELFDESTRUCT in the transaction that created it).
///         `touched[i]`: `accounts[i]` was touched (EIP-161: an empty touched account is deleted at the end of the
///         transaction, which the verifier does after crediting the coinbase).
struct EvmResult {
    bool success;
    uint64 gasLeft;
    uint64 refund;
    bytes returnData;
    address created;
    EvmLog[] logs;
    EvmAccount[] accounts;
    EvmSlot[] slots;
    bool[] touched;
}

/// @title IEvmInterpreter
/// @notice Executes one message with the L2's EVM rules (Osaka) over the given tables, in memory: a pure function of
///         its inputs (precompiles run on L1's own, through `IEvmPrecompiles`).
interface IEvmInterpreter {
    /// @notice The message's outcome over the tables; reverts `MissingAccount`/`MissingSlot`/`MissingBlockHash` when
    ///         execution reaches an entry the tables lack.
    function execute(
        EvmBlock calldata _block,
        EvmMessage calldata _message,
        EvmAccount[] calldata _accounts,
        EvmSlot[] calldata _slots,
        EvmBlockHash[] calldata _blockHashes
    ) external view returns (EvmResult memory);
}

/// @title IEvmPrecompiles
/// @notice The L2's precompiles (Osaka's set: 0x01–0x11 and P256VERIFY at 0x100) with their exact gas, computed on
///         L1's precompiles at the same addresses (identical semantics on an Osaka L1).
interface IEvmPrecompiles {
    /// @notice Whether `_addr` is one of the L2's precompiles.
    function isPrecompile(address _addr) external pure returns (bool);

    /// @notice Runs precompile `_addr` on `_input` with `_gas` available. `success == false`: the call failed (out of
    ///         gas or bad input) and, as in the EVM, consumed all of `_gas`; `output` is then empty.
    function run(address _addr, bytes calldata _input, uint64 _gas)
        external
        view
        returns (bool success, uint64 gasUsed, bytes memory output);
}
