import Foundation

// Reductions to a scalar and the losses of the CycleGAN objective, each with its gradient.
// Sums accumulate in Double so that large images lose no precision.

/// Σx over `count` elements: Float vector lanes within blocks of 4096, Double across blocks.
func elementSum(_ x: UnsafePointer<Float>, count: Int) -> Double {
  var total: Double = 0
  var start = 0
  while start < count {
    let end = min(start + 4096, count)
    var lanes = SIMD16<Float>()
    var index = start
    while index + 16 <= end {
      lanes += UnsafeRawPointer(x + index).loadUnaligned(as: SIMD16<Float>.self)
      index += 16
    }
    var block = Double(lanes.sum())
    while index < end {
      block += Double(x[index])
      index += 1
    }
    total += block
    start = end
  }
  return total
}

extension Tensor {
  /// The sum of all elements, as a scalar tensor (shape `[]`).
  public func sum() -> Tensor {
    let total = withUnsafeBufferPointer { elementSum($0.baseAddress!, count: $0.count) }
    let inputShape = shape
    return Tensor(Float(total)).recorded(from: [self]) { gradient in
      [Tensor(shape: inputShape, repeating: gradient.scalar)]
    }
  }

  /// The mean of all elements, as a scalar tensor (shape `[]`).
  public func mean() -> Tensor {
    precondition(count > 0, "mean of an empty tensor")
    let total = withUnsafeBufferPointer { elementSum($0.baseAddress!, count: $0.count) }
    let inputShape = shape
    let elementCount = Float(count)
    return Tensor(Float(total / Double(count))).recorded(from: [self]) { gradient in
      [Tensor(shape: inputShape, repeating: gradient.scalar / elementCount)]
    }
  }
}

/// The elementwise term of a mean loss and its derivatives.
private protocol LossTerm {
  /// The term for prediction `p` and target `t`.
  func callAsFunction(_ p: Float, _ t: Float) -> Float
  /// ∂term/∂p.
  func predictionDerivative(_ p: Float, _ t: Float) -> Float
  /// ∂term/∂t.
  func targetDerivative(_ p: Float, _ t: Float) -> Float
}

/// `factor · ∂term/∂p` (or `∂term/∂t`) elementwise.
private struct ScaledLossDerivative<Term: LossTerm>: ElementPairFunction {
  let term: Term
  let factor: Float
  let withRespectToTarget: Bool
  func callAsFunction(_ p: Float, _ t: Float) -> Float {
    factor * (withRespectToTarget ? term.targetDerivative(p, t) : term.predictionDerivative(p, t))
  }
}

/// `mean(term(p, t))` over two same-shaped tensors, a scalar, with gradients for both.
private func meanLoss<Term: LossTerm>(
  _ prediction: Tensor, _ target: Tensor, _ name: String, _ term: Term
) -> Tensor {
  precondition(
    prediction.shape == target.shape,
    "\(name): prediction \(prediction.shape) and target \(target.shape) differ")
  precondition(prediction.count > 0, "\(name) of empty tensors")
  let total = prediction.withUnsafeBufferPointer { p in
    target.withUnsafeBufferPointer { t in
      var total: Double = 0
      for index in 0..<p.count { total += Double(term(p[index], t[index])) }
      return total
    }
  }
  let loss = Tensor(Float(total / Double(prediction.count)))
  guard Tensor.willRecord(prediction, target) else { return loss }

  let savedPrediction = prediction.detached()
  let savedTarget = target.detached()
  let predictionNeedsGradient = prediction.requiresGradient
  let targetNeedsGradient = target.requiresGradient
  let elementCount = Float(prediction.count)
  return loss.recorded(from: [prediction, target]) { gradient in
    let factor = gradient.scalar / elementCount
    return [
      predictionNeedsGradient
        ? Tensor.zipped(
          savedPrediction, savedTarget, name,
          ScaledLossDerivative(term: term, factor: factor, withRespectToTarget: false)) : nil,
      targetNeedsGradient
        ? Tensor.zipped(
          savedPrediction, savedTarget, name,
          ScaledLossDerivative(term: term, factor: factor, withRespectToTarget: true)) : nil,
    ]
  }
}

private struct AbsoluteError: LossTerm {
  func callAsFunction(_ p: Float, _ t: Float) -> Float { abs(p - t) }
  func predictionDerivative(_ p: Float, _ t: Float) -> Float { p > t ? 1 : (p < t ? -1 : 0) }
  func targetDerivative(_ p: Float, _ t: Float) -> Float { p > t ? -1 : (p < t ? 1 : 0) }
}

private struct SquaredError: LossTerm {
  func callAsFunction(_ p: Float, _ t: Float) -> Float { (p - t) * (p - t) }
  func predictionDerivative(_ p: Float, _ t: Float) -> Float { 2 * (p - t) }
  func targetDerivative(_ p: Float, _ t: Float) -> Float { 2 * (t - p) }
}

/// `max(x, 0) − x·t + log(1 + e^(−|x|))`, which does not overflow.
private struct LogisticCrossEntropy: LossTerm {
  func callAsFunction(_ x: Float, _ t: Float) -> Float {
    max(x, 0) - x * t + Foundation.log1p(Foundation.exp(-abs(x)))
  }
  func predictionDerivative(_ x: Float, _ t: Float) -> Float { logistic(x) - t }
  func targetDerivative(_ x: Float, _ t: Float) -> Float { -x }
}

/// Mean absolute error `mean(|prediction − target|)` (PyTorch's `l1_loss`), a scalar.
public func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
  Profiler.measure(Profiler.lossLabel) {
    meanLoss(prediction, target, "l1Loss", AbsoluteError())
  }
}

/// Mean squared error `mean((prediction − target)²)` (PyTorch's `mse_loss`), a scalar.
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
  Profiler.measure(Profiler.lossLabel) {
    meanLoss(prediction, target, "mseLoss", SquaredError())
  }
}

/// Binary cross-entropy of `sigmoid(logits)` against `target` in `[0, 1]`, averaged over the
/// elements (PyTorch's `binary_cross_entropy_with_logits`), a scalar; computed as
/// `max(x, 0) − x·t + log(1 + e^(−|x|))`, which does not overflow.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor) -> Tensor {
  Profiler.measure(Profiler.lossLabel) {
    meanLoss(logits, target, "binaryCrossEntropyWithLogits", LogisticCrossEntropy())
  }
}
