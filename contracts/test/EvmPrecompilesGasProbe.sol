// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IEvmPrecompiles } from "../libraries/EvmTypes.sol";

/// @title EvmPrecompilesGasProbe
/// @notice Test helper: the L1 gas one `IEvmPrecompiles.run` costs its caller (the external call included, as an
///         interpreter calling it pays), for the figures test/e2e/evm-precompiles.test.ts reports.
contract EvmPrecompilesGasProbe {
    /// @notice Runs `_target.run(_addr, _input, _gas)` and returns the L1 gas it took and its success.
    function measure(IEvmPrecompiles _target, address _addr, bytes calldata _input, uint64 _gas)
        external
        view
        returns (uint256 l1Gas, bool success, uint64 gasUsed)
    {
        uint256 before = gasleft();
        (success, gasUsed,) = _target.run(_addr, _input, _gas);
        l1Gas = before - gasleft();
    }
}
