// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RLPReader } from "../libraries/RLPReader.sol";

/// @title OutputRootRegistry
/// @notice Where output-root preimages are published before their roots are claimed in a dispute game. The step
///         verifier opens a disputed block from its output's preimage (the header gives the block's context and
///         `transactionsRoot`), so a claimant must make that preimage public on L1 *before* claiming the root: a root
///         nobody can open, or one opened only after it was claimed, is judged unopenable (INVALID). The registry
///         takes the whole header rather than the block hash, so the output's `stateRoot` is read from the header and
///         the two can never disagree.
contract OutputRootRegistry {
    /// @notice A preimage was published for the first time.
    event OutputPublished(bytes32 indexed outputRoot, bytes header, bytes32 messagePasserStorageRoot);

    /// @notice The header is not an RLP list with a 32-byte state root as its fourth field.
    error MalformedHeader();

    /// @notice When each output root's preimage was first published (0: never).
    mapping(bytes32 => uint64) internal published;

    /// @notice Publishes the preimage of a v0 output root, `keccak256(abi.encode(0, header.stateRoot,
    ///         messagePasserStorageRoot, keccak256(header)))`. The first publication's timestamp is kept; publishing
    ///         again is a no-op.
    /// @param _headerRlp                The L2 block header, RLP-encoded as its hash is taken.
    /// @param _messagePasserStorageRoot Storage root of L2ToL1MessagePasser under the header's state root.
    /// @return outputRoot_ The output root the preimage opens.
    function publish(bytes calldata _headerRlp, bytes32 _messagePasserStorageRoot) external returns (bytes32 outputRoot_) {
        outputRoot_ = outputRootOf(_headerRlp, _messagePasserStorageRoot);
        if (published[outputRoot_] != 0) return outputRoot_;
        published[outputRoot_] = uint64(block.timestamp);
        emit OutputPublished(outputRoot_, _headerRlp, _messagePasserStorageRoot);
    }

    /// @notice When `_outputRoot`'s preimage was first published (0: never).
    /// @param _outputRoot A v0 output root.
    function publishedAt(bytes32 _outputRoot) external view returns (uint64) {
        return published[_outputRoot];
    }

    /// @notice The v0 output root of a header and a message-passer storage root.
    /// @param _headerRlp                The RLP-encoded block header.
    /// @param _messagePasserStorageRoot The message passer's storage root.
    function outputRootOf(bytes memory _headerRlp, bytes32 _messagePasserStorageRoot) public pure returns (bytes32) {
        RLPReader.Item[] memory fields = RLPReader.readLongList(RLPReader.toItem(_headerRlp));
        if (fields.length < 4) revert MalformedHeader();
        bytes memory stateRoot = RLPReader.readBytes(fields[3]);
        if (stateRoot.length != 32) revert MalformedHeader();
        return keccak256(abi.encode(uint256(0), bytes32(stateRoot), _messagePasserStorageRoot, keccak256(_headerRlp)));
    }
}
