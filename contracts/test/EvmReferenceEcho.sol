// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    EvmAccount, EvmBlock, EvmBlockHash, EvmMessage, EvmResult, EvmSlot
} from "../libraries/EvmTypes.sol";

/// @title EvmReferenceEcho
/// @notice Test helper for the EVM interpreter's reference (issue 18): its ABI carries `IEvmInterpreter.execute`'s
///         argument and result types straight from EvmTypes.sol, so the harness's values are checked to encode as
///         the interpreter takes and returns them.
contract EvmReferenceEcho {
    /// @notice Returns `_result` unchanged; takes `execute`'s arguments so the ABI carries their types.
    /// @param _block       The block context.
    /// @param _message     The message.
    /// @param _accounts    The account table.
    /// @param _slots       The slot table.
    /// @param _blockHashes The block hashes.
    /// @param _result      A result.
    /// @return The same result.
    function echo(
        EvmBlock calldata _block,
        EvmMessage calldata _message,
        EvmAccount[] calldata _accounts,
        EvmSlot[] calldata _slots,
        EvmBlockHash[] calldata _blockHashes,
        EvmResult calldata _result
    ) external pure returns (EvmResult memory) {
        (_block, _message, _accounts, _slots, _blockHashes);
        return _result;
    }
}
