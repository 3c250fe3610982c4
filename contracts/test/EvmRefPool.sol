// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IEvmRefToken {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title EvmRefPool
/// @notice Test workload for the EVM interpreter's reference (issue 18): a minimal constant-product pool of two
///         ERC-20 tokens with a 0.3% fee. No immutables: the tokens live in storage, so the runtime code solc emits
///         can be put into a test's pre-state as is (slots 0 and 1 hold the tokens).
contract EvmRefPool {
    address public token0;
    address public token1;
    uint256 public reserve0;
    uint256 public reserve1;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;

    /// @notice Thrown when a swap would pay less than the caller's minimum.
    error EvmRefPool_Slippage(uint256 out, uint256 minOut);
    /// @notice Thrown for a token the pool does not hold.
    error EvmRefPool_UnknownToken(address token);
    /// @notice Thrown when liquidity added would mint nothing.
    error EvmRefPool_NoLiquidity();

    event Swap(address indexed sender, address indexed tokenIn, uint256 amountIn, uint256 amountOut);
    event Mint(address indexed sender, uint256 amount0, uint256 amount1, uint256 liquidity);

    /// @notice Sets the pool's tokens (once: for a deployment through a creation workload).
    /// @param _token0 First token.
    /// @param _token1 Second token.
    constructor(address _token0, address _token1) {
        token0 = _token0;
        token1 = _token1;
    }

    /// @notice Swaps `_amountIn` of `_tokenIn` (pulled with transferFrom) for the other token.
    /// @param _tokenIn  token0 or token1.
    /// @param _amountIn Amount the caller pays.
    /// @param _minOut   Least amount out accepted.
    /// @return out_ Amount of the other token sent to the caller.
    function swap(address _tokenIn, uint256 _amountIn, uint256 _minOut) external returns (uint256 out_) {
        bool zeroForOne = _tokenIn == token0;
        if (!zeroForOne && _tokenIn != token1) revert EvmRefPool_UnknownToken(_tokenIn);
        (uint256 rIn, uint256 rOut) = zeroForOne ? (reserve0, reserve1) : (reserve1, reserve0);
        IEvmRefToken(_tokenIn).transferFrom(msg.sender, address(this), _amountIn);
        uint256 inWithFee = _amountIn * 997;
        out_ = (inWithFee * rOut) / (rIn * 1000 + inWithFee);
        if (out_ < _minOut) revert EvmRefPool_Slippage(out_, _minOut);
        IEvmRefToken(zeroForOne ? token1 : token0).transfer(msg.sender, out_);
        if (zeroForOne) (reserve0, reserve1) = (rIn + _amountIn, rOut - out_);
        else (reserve1, reserve0) = (rIn + _amountIn, rOut - out_);
        emit Swap(msg.sender, _tokenIn, _amountIn, out_);
    }

    /// @notice Adds liquidity in the pool's current ratio (any ratio when empty) and mints pool shares.
    /// @param _amount0 token0 paid.
    /// @param _amount1 token1 paid.
    /// @return liquidity_ Shares minted to the caller.
    function addLiquidity(uint256 _amount0, uint256 _amount1) external returns (uint256 liquidity_) {
        IEvmRefToken(token0).transferFrom(msg.sender, address(this), _amount0);
        IEvmRefToken(token1).transferFrom(msg.sender, address(this), _amount1);
        uint256 supply = totalSupply;
        if (supply == 0) {
            liquidity_ = _sqrt(_amount0 * _amount1);
        } else {
            uint256 l0 = (_amount0 * supply) / reserve0;
            uint256 l1 = (_amount1 * supply) / reserve1;
            liquidity_ = l0 < l1 ? l0 : l1;
        }
        if (liquidity_ == 0) revert EvmRefPool_NoLiquidity();
        totalSupply = supply + liquidity_;
        balanceOf[msg.sender] += liquidity_;
        reserve0 += _amount0;
        reserve1 += _amount1;
        emit Mint(msg.sender, _amount0, _amount1, liquidity_);
    }

    /// @dev Babylonian square root (floor).
    function _sqrt(uint256 _y) private pure returns (uint256 z_) {
        if (_y > 3) {
            z_ = _y;
            uint256 x = _y / 2 + 1;
            while (x < z_) {
                z_ = x;
                x = (_y / x + x) / 2;
            }
        } else if (_y != 0) {
            z_ = 1;
        }
    }
}
