import Foundation

// Elementwise operations of any shape: arithmetic on same-shaped tensors, scaling by a Float,
// activations and dropout, each with its gradient.

extension Tensor {
  /// `transform` applied to every element, as a new tensor outside any graph.
  func mapped(_ transform: (Float) -> Float) -> Tensor {
    withUnsafeBufferPointer { source in
      Tensor(shape: shape) { target in
        for index in 0..<source.count { target[index] = transform(source[index]) }
      }
    }
  }

  /// `combine` applied to matching elements of two same-shaped tensors, outside any graph.
  static func zipped(
    _ first: Tensor, _ second: Tensor, _ operation: String,
    _ combine: (Float, Float) -> Float
  ) -> Tensor {
    precondition(
      first.shape == second.shape, "\(operation): shapes \(first.shape) and \(second.shape) differ")
    return first.withUnsafeBufferPointer { a in
      second.withUnsafeBufferPointer { b in
        Tensor(shape: first.shape) { target in
          for index in 0..<a.count { target[index] = combine(a[index], b[index]) }
        }
      }
    }
  }
}

/// Elementwise sum of two tensors of the same shape.
public func + (lhs: Tensor, rhs: Tensor) -> Tensor {
  Tensor.zipped(lhs, rhs, "+") { $0 + $1 }.recorded(from: [lhs, rhs]) { gradient in
    [gradient, gradient]
  }
}

/// Elementwise difference of two tensors of the same shape.
public func - (lhs: Tensor, rhs: Tensor) -> Tensor {
  let rhsNeedsGradient = rhs.requiresGradient
  return Tensor.zipped(lhs, rhs, "-") { $0 - $1 }.recorded(from: [lhs, rhs]) { gradient in
    [gradient, rhsNeedsGradient ? gradient.mapped { -$0 } : nil]
  }
}

/// Elementwise product of two tensors of the same shape.
public func * (lhs: Tensor, rhs: Tensor) -> Tensor {
  let savedLHS = lhs.detached()
  let savedRHS = rhs.detached()
  let lhsNeedsGradient = lhs.requiresGradient
  let rhsNeedsGradient = rhs.requiresGradient
  return Tensor.zipped(lhs, rhs, "*") { $0 * $1 }.recorded(from: [lhs, rhs]) { gradient in
    [
      lhsNeedsGradient ? Tensor.zipped(gradient, savedRHS, "*") { $0 * $1 } : nil,
      rhsNeedsGradient ? Tensor.zipped(gradient, savedLHS, "*") { $0 * $1 } : nil,
    ]
  }
}

/// Every element multiplied by `factor`.
public func * (tensor: Tensor, factor: Float) -> Tensor {
  tensor.mapped { $0 * factor }.recorded(from: [tensor]) { gradient in
    [gradient.mapped { $0 * factor }]
  }
}

/// Every element multiplied by `factor`.
public func * (factor: Float, tensor: Tensor) -> Tensor { tensor * factor }

/// Every element divided by `divisor`.
public func / (tensor: Tensor, divisor: Float) -> Tensor {
  tensor.mapped { $0 / divisor }.recorded(from: [tensor]) { gradient in
    [gradient.mapped { $0 / divisor }]
  }
}

/// Every element plus `offset`.
public func + (tensor: Tensor, offset: Float) -> Tensor {
  tensor.mapped { $0 + offset }.recorded(from: [tensor]) { gradient in [gradient] }
}

/// Every element negated.
public prefix func - (tensor: Tensor) -> Tensor { tensor * -1 }

/// `max(x, 0)` elementwise.
public func relu(_ input: Tensor) -> Tensor {
  let output = input.mapped { $0 > 0 ? $0 : 0 }
  let savedOutput = output.detached()
  return output.recorded(from: [input]) { gradient in
    [Tensor.zipped(gradient, savedOutput, "relu") { $1 > 0 ? $0 : 0 }]
  }
}

/// `x` where `x > 0`, else `slope · x`, elementwise (PyTorch's `leaky_relu`).
public func leakyRelu(_ input: Tensor, slope: Float = 0.01) -> Tensor {
  let output = input.mapped { $0 > 0 ? $0 : slope * $0 }
  // For a non-negative slope the output is positive exactly where the input is.
  let savedSign = slope >= 0 ? output.detached() : input.detached()
  return output.recorded(from: [input]) { gradient in
    [Tensor.zipped(gradient, savedSign, "leakyRelu") { $1 > 0 ? $0 : slope * $0 }]
  }
}

/// Hyperbolic tangent elementwise.
public func tanh(_ input: Tensor) -> Tensor {
  let output = input.mapped { Foundation.tanh($0) }
  let savedOutput = output.detached()
  return output.recorded(from: [input]) { gradient in
    [Tensor.zipped(gradient, savedOutput, "tanh") { $0 * (1 - $1 * $1) }]
  }
}

/// The logistic function `1 / (1 + e^(−x))` elementwise.
public func sigmoid(_ input: Tensor) -> Tensor {
  let output = input.mapped(logistic)
  let savedOutput = output.detached()
  return output.recorded(from: [input]) { gradient in
    [Tensor.zipped(gradient, savedOutput, "sigmoid") { $0 * $1 * (1 - $1) }]
  }
}

/// `1 / (1 + e^(−x))` without overflow for large `|x|`.
@inline(__always)
func logistic(_ x: Float) -> Float {
  if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
  let e = Foundation.exp(x)
  return e / (1 + e)
}

/// Zeroes each element with probability `probability` and scales the others by
/// `1 / (1 − probability)`, drawing one uniform number per element from `generator` in
/// row-major order (training-mode dropout; call it only while training).
public func dropout(
  _ input: Tensor, probability: Float, using generator: inout RandomGenerator
) -> Tensor {
  precondition((0...1).contains(probability), "dropout probability \(probability) not in [0, 1]")
  if probability == 0 { return input }
  let keptScale: Float = probability < 1 ? 1 / (1 - probability) : 0
  let mask = Tensor(shape: input.shape) { mask in
    for index in 0..<mask.count {
      mask[index] = generator.nextUniformFloat() < probability ? 0 : keptScale
    }
  }
  return Tensor.zipped(input, mask, "dropout") { $0 * $1 }.recorded(from: [input]) { gradient in
    [Tensor.zipped(gradient, mask, "dropout") { $0 * $1 }]
  }
}
