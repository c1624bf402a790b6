import Foundation

// Reductions to a scalar and the losses of the CycleGAN objective, each with its gradient.
// Sums accumulate in Double so that large images lose no precision.

extension Tensor {
  /// The sum of all elements, as a scalar tensor (shape `[]`).
  public func sum() -> Tensor {
    let total = withUnsafeBufferPointer { values in
      var total = 0.0
      for index in 0..<values.count { total += Double(values[index]) }
      return total
    }
    let inputShape = shape
    return Tensor(Float(total)).recorded(from: [self]) { gradient in
      [Tensor(shape: inputShape, repeating: gradient.scalar)]
    }
  }

  /// The mean of all elements, as a scalar tensor (shape `[]`).
  public func mean() -> Tensor {
    precondition(count > 0, "mean of an empty tensor")
    let total = withUnsafeBufferPointer { values in
      var total = 0.0
      for index in 0..<values.count { total += Double(values[index]) }
      return total
    }
    let inputShape = shape
    let elementCount = Float(count)
    return Tensor(Float(total / Double(count))).recorded(from: [self]) { gradient in
      [Tensor(shape: inputShape, repeating: gradient.scalar / elementCount)]
    }
  }
}

/// A mean loss over two same-shaped tensors: `mean(term(p, t))`, whose gradient with respect to
/// `p` is `derivative(p, t) · g / count` and with respect to `t` is
/// `targetDerivative(p, t) · g / count`.
private func meanLoss(
  _ prediction: Tensor, _ target: Tensor, _ name: String,
  term: (Float, Float) -> Double,
  derivative: @escaping (Float, Float) -> Float,
  targetDerivative: @escaping (Float, Float) -> Float
) -> Tensor {
  precondition(
    prediction.shape == target.shape,
    "\(name): prediction \(prediction.shape) and target \(target.shape) differ")
  precondition(prediction.count > 0, "\(name) of empty tensors")
  let total = prediction.withUnsafeBufferPointer { p in
    target.withUnsafeBufferPointer { t in
      var total = 0.0
      for index in 0..<p.count { total += term(p[index], t[index]) }
      return total
    }
  }
  let savedPrediction = prediction.detached()
  let savedTarget = target.detached()
  let predictionNeedsGradient = prediction.requiresGradient
  let targetNeedsGradient = target.requiresGradient
  let elementCount = Float(prediction.count)
  let loss = Tensor(Float(total / Double(prediction.count)))
  return loss.recorded(from: [prediction, target]) { gradient in
    let factor = gradient.scalar / elementCount
    return [
      predictionNeedsGradient
        ? Tensor.zipped(savedPrediction, savedTarget, name) { factor * derivative($0, $1) } : nil,
      targetNeedsGradient
        ? Tensor.zipped(savedPrediction, savedTarget, name) { factor * targetDerivative($0, $1) }
        : nil,
    ]
  }
}

/// Mean absolute error `mean(|prediction − target|)` (PyTorch's `l1_loss`), a scalar.
public func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
  meanLoss(
    prediction, target, "l1Loss",
    term: { Double(abs($0 - $1)) },
    derivative: { $0 > $1 ? 1 : ($0 < $1 ? -1 : 0) },
    targetDerivative: { $0 > $1 ? -1 : ($0 < $1 ? 1 : 0) })
}

/// Mean squared error `mean((prediction − target)²)` (PyTorch's `mse_loss`), a scalar.
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
  meanLoss(
    prediction, target, "mseLoss",
    term: { Double(($0 - $1) * ($0 - $1)) },
    derivative: { 2 * ($0 - $1) },
    targetDerivative: { 2 * ($1 - $0) })
}

/// Binary cross-entropy of `sigmoid(logits)` against `target` in `[0, 1]`, averaged over the
/// elements (PyTorch's `binary_cross_entropy_with_logits`), a scalar; computed as
/// `max(x, 0) − x·t + log(1 + e^(−|x|))`, which does not overflow.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor) -> Tensor {
  meanLoss(
    logits, target, "binaryCrossEntropyWithLogits",
    term: { x, t in
      let x = Double(x)
      return max(x, 0) - x * Double(t) + (-abs(x)).exponentialPlusOneLogarithm
    },
    derivative: { x, t in logistic(x) - t },
    targetDerivative: { x, _ in -x })
}

extension Double {
  /// `log(1 + e^self)` for `self ≤ 0`.
  fileprivate var exponentialPlusOneLogarithm: Double { Foundation.log1p(Foundation.exp(self)) }
}
