// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Deployed by Factory; remembers its creator and a tag.
contract Child {
    address public immutable creator;
    uint256 public immutable tag;

    constructor(uint256 tag_) {
        creator = msg.sender;
        tag = tag_;
    }
}

/// @notice CREATE and CREATE2 from a contract, with address prediction.
contract Factory {
    event Deployed(address indexed child, bytes32 indexed salt, uint256 tag);

    function deploy(bytes32 salt, uint256 tag) external returns (address child) {
        child = address(new Child{salt: salt}(tag));
        emit Deployed(child, salt, tag);
    }

    function deployPlain(uint256 tag) external returns (address child) {
        child = address(new Child(tag));
        emit Deployed(child, bytes32(0), tag);
    }

    function predict(bytes32 salt, uint256 tag) external view returns (address) {
        bytes32 initHash = keccak256(abi.encodePacked(type(Child).creationCode, abi.encode(tag)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initHash)))));
    }
}
