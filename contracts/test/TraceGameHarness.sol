// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The step verifier as a view (TxStepVerifier's `step` reads only).
interface IViewStepper {
    function step(bytes calldata _stateData, bytes calldata _proof, bytes32 _localContext) external view returns (bytes32);
}

/// @title TraceGameHarness
/// @notice Stands in for a FaultDisputeGame at max depth in the step verifier's tests: it answers the two views the
///         verifier reads from its caller with values a test sets, computes OP's local context from them as the game
///         does, and calls the verifier, reporting the claim and the gas the step used.
contract TraceGameHarness {
    bytes32 public starting;
    uint128 public startingPos;
    bytes32 public disputed;
    uint128 public disputedPos;
    uint256 public disputedBlock;
    uint64 public createdAt;

    /// @notice Sets what the views answer.
    function set(bytes32 _starting, uint128 _startingPos, bytes32 _disputed, uint128 _disputedPos, uint256 _block, uint64 _createdAt)
        external
    {
        (starting, startingPos, disputed, disputedPos, disputedBlock, createdAt) =
            (_starting, _startingPos, _disputed, _disputedPos, _block, _createdAt);
    }

    /// @notice As FaultDisputeGame's, for any claim index.
    function startingAndDisputedOutputs(uint256)
        external
        view
        returns (bytes32, uint128, bytes32, uint128, uint256)
    {
        return (starting, startingPos, disputed, disputedPos, disputedBlock);
    }

    /// @notice As FaultDisputeGame's, for any claim index.
    /// @notice No L1 head: the harness stands in for a game only as far as the step reads it today.
    function l1Head() external pure returns (bytes32) {
        return bytes32(0);
    }

    function disputedClaimCreatedAt(uint256) external view returns (uint64) {
        return createdAt;
    }

    /// @notice The game's local context of the set outputs.
    function localContext() public view returns (bytes32) {
        return startingPos == 0
            ? keccak256(abi.encode(disputed, disputedPos))
            : keccak256(abi.encode(starting, startingPos, disputed, disputedPos));
    }

    /// @notice Steps `_vm` as the game would; returns the post-state claim and the gas of the verifier call.
    function step(IViewStepper _vm, bytes calldata _stateData, bytes calldata _proof)
        external
        view
        returns (bytes32 claim_, uint256 gas_)
    {
        bytes32 context = localContext();
        uint256 before = gasleft();
        claim_ = _vm.step(_stateData, _proof, context);
        gas_ = before - gasleft();
    }
}
