// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A counter that reports the block environment it ran in.
contract Counter {
    uint256 public count;
    uint256 public lastBlockNumber;
    uint256 public lastTimestamp;

    event Incremented(address indexed by, uint256 indexed newCount, uint256 blockNumber, uint256 timestamp);

    function increment() external returns (uint256) {
        count += 1;
        lastBlockNumber = block.number;
        lastTimestamp = block.timestamp;
        emit Incremented(msg.sender, count, block.number, block.timestamp);
        return count;
    }

    function incrementBy(uint256 n) external {
        for (uint256 i = 0; i < n; i++) {
            count += 1;
            emit Incremented(msg.sender, count, block.number, block.timestamp);
        }
        lastBlockNumber = block.number;
        lastTimestamp = block.timestamp;
    }

    function env() external view returns (uint256 number, uint256 timestamp, uint256 chainId, uint256 baseFee, address coinbase) {
        return (block.number, block.timestamp, block.chainid, block.basefee, block.coinbase);
    }
}
