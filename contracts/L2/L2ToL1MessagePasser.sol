// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Types } from "../libraries/Types.sol";
import { Hashing } from "../libraries/Hashing.sol";

/// @title L2ToL1MessagePasser
/// @notice L2 predeploy at 0x4200000000000000000000000000000000000016 that records L2→L1 messages (withdrawals). Its
///         storage root is part of every output root, and `sentMessages` at slot 0 is what the L1 portal proves a
///         withdrawal against: `keccak256(abi.encode(withdrawalHash, uint256(0)))` holds 1.
contract L2ToL1MessagePasser {
    /// @notice L1 gas limit of a withdrawal made by sending ETH to `receive()`.
    uint256 internal constant RECEIVE_DEFAULT_GAS_LIMIT = 100_000;

    /// @notice Message version, carried in the top two bytes of every nonce.
    uint16 public constant MESSAGE_VERSION = 1;

    /// @notice Withdrawal hashes sent so far (slot 0: the portal's proofs depend on it).
    mapping(bytes32 => bool) public sentMessages;

    /// @notice Count of messages sent (slot 1).
    uint240 internal msgNonce;

    /// @notice Emitted for every withdrawal.
    /// @param nonce          Versioned nonce of the message.
    /// @param sender         L2 account that initiated it.
    /// @param target         L1 account to call.
    /// @param value          ETH (wei) to send to the target on L1.
    /// @param gasLimit       Minimum gas for the L1 call.
    /// @param data           Calldata for the L1 call.
    /// @param withdrawalHash `keccak256(abi.encode(nonce, sender, target, value, gasLimit, data))`.
    event MessagePassed(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 withdrawalHash
    );

    /// @notice Emitted when the ETH withdrawn so far is burned.
    /// @param amount Wei burned.
    event WithdrawerBalanceBurnt(uint256 indexed amount);

    /// @notice Withdraws the ETH sent to the sender's own address on L1, with a 100,000 gas limit.
    receive() external payable {
        initiateWithdrawal(msg.sender, RECEIVE_DEFAULT_GAS_LIMIT, bytes(""));
    }

    /// @notice Semantic version.
    function version() external pure returns (string memory) {
        return "1.1.0";
    }

    /// @notice Sends a message to L1: records its hash in `sentMessages` and emits `MessagePassed`. The ETH sent stays
    ///         here until `burn()` and is released on L1 when the withdrawal is finalized.
    /// @param _target   L1 account to call.
    /// @param _gasLimit Minimum gas for the L1 call.
    /// @param _data     Calldata for the L1 call.
    function initiateWithdrawal(address _target, uint256 _gasLimit, bytes memory _data) public payable {
        uint256 nonce = messageNonce();
        bytes32 withdrawalHash = Hashing.hashWithdrawal(
            Types.WithdrawalTransaction({
                nonce: nonce,
                sender: msg.sender,
                target: _target,
                value: msg.value,
                gasLimit: _gasLimit,
                data: _data
            })
        );
        sentMessages[withdrawalHash] = true;
        emit MessagePassed(nonce, msg.sender, _target, msg.value, _gasLimit, _data, withdrawalHash);
        unchecked {
            ++msgNonce;
        }
    }

    /// @notice Removes the ETH held here from circulation, so the L2 supply shrinks by what was withdrawn. Anyone may
    ///         call it.
    function burn() external {
        uint256 balance = address(this).balance;
        new Burner{ value: balance }();
        emit WithdrawerBalanceBurnt(balance);
    }

    /// @notice The nonce of the next message: `MESSAGE_VERSION << 240 | count`.
    function messageNonce() public view returns (uint256) {
        return (uint256(MESSAGE_VERSION) << 240) | msgNonce;
    }
}

/// @title Burner
/// @notice Destroys itself in its constructor with itself as beneficiary: the ETH it was created with ceases to exist
///         (EIP-6780 still deletes an account that self-destructs in the transaction that created it).
contract Burner {
    /// @notice Burns `msg.value`.
    constructor() payable {
        selfdestruct(payable(address(this)));
    }
}
