// Instance and batch normalisation of `[N, C, H, W]` tensors, PyTorch's semantics: biased
// variance for normalising, `y = (x − mean) / √(variance + ε) · weight + bias`.

/// Which elements share statistics.
private struct NormalizationGroups {
  let batch: Int
  let channels: Int
  let planeSize: Int
  /// One group per `(n, c)` plane (instance norm), else one per channel (batch norm).
  let perInstance: Bool

  var count: Int { perInstance ? batch * channels : channels }
  var elementsPerGroup: Int { perInstance ? planeSize : batch * planeSize }
  func group(ofPlane plane: Int) -> Int { perInstance ? plane : plane % channels }
  func channel(ofPlane plane: Int) -> Int { plane % channels }
}

/// Normalises `input` per group with the given or computed statistics, applies the optional
/// per-channel `weight` and `bias` (`[C]`), and records the gradient.
///
/// - Returns: the output and, when the statistics were computed, each group's mean and biased
///   variance.
private func normalize(
  _ input: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float, perInstance: Bool,
  fixedStatistics: (mean: [Float], variance: [Float])?, name: String
) -> (output: Tensor, mean: [Double], variance: [Double]) {
  precondition(input.rank == 4, "\(name) needs [N, C, H, W], got \(input.shape)")
  let groups = NormalizationGroups(
    batch: input.shape[0], channels: input.shape[1],
    planeSize: input.shape[2] * input.shape[3], perInstance: perInstance)
  for (label, parameter) in [("weight", weight), ("bias", bias)] {
    if let parameter {
      precondition(
        parameter.shape == [groups.channels],
        "\(name) \(label) must be [\(groups.channels)], got \(parameter.shape)")
    }
  }
  precondition(groups.elementsPerGroup > 0, "\(name) of an empty input \(input.shape)")
  let planes = groups.batch * groups.channels
  let planeSize = groups.planeSize

  // Statistics per group: mean, then biased variance from the deviations (two passes).
  var mean = [Double](repeating: 0, count: groups.count)
  var variance = [Double](repeating: 0, count: groups.count)
  if let fixedStatistics {
    mean = fixedStatistics.mean.map(Double.init)
    variance = fixedStatistics.variance.map(Double.init)
  } else {
    input.withUnsafeBufferPointer { source in
      for plane in 0..<planes {
        let values = source.baseAddress! + plane * planeSize
        var total: Double = 0
        for index in 0..<planeSize { total += Double(values[index]) }
        mean[groups.group(ofPlane: plane)] += total
      }
      for group in 0..<groups.count { mean[group] /= Double(groups.elementsPerGroup) }
      for plane in 0..<planes {
        let values = source.baseAddress! + plane * planeSize
        let planeMean = Float(mean[groups.group(ofPlane: plane)])
        var total: Double = 0
        for index in 0..<planeSize {
          let deviation = values[index] - planeMean
          total += Double(deviation * deviation)
        }
        variance[groups.group(ofPlane: plane)] += total
      }
      for group in 0..<groups.count { variance[group] /= Double(groups.elementsPerGroup) }
    }
  }
  let groupMean = mean.map { Float($0) }
  let inverseDeviation = variance.map { Float(1 / ($0 + Double(epsilon)).squareRoot()) }
  let weights = weight?.scalars ?? [Float](repeating: 1, count: groups.channels)
  let biases = bias?.scalars ?? [Float](repeating: 0, count: groups.channels)

  // y = x·scale + shift per plane.
  let output = input.withUnsafeBufferPointer { source in
    Tensor(shape: input.shape) { target in
      for plane in 0..<planes {
        let group = groups.group(ofPlane: plane)
        let channel = groups.channel(ofPlane: plane)
        let scale = inverseDeviation[group] * weights[channel]
        let shift = biases[channel] - groupMean[group] * scale
        let values = source.baseAddress! + plane * planeSize
        let results = target.baseAddress! + plane * planeSize
        for index in 0..<planeSize { results[index] = values[index] * scale + shift }
      }
    }
  }

  let savedInput = input.detached()
  let inputNeedsGradient = input.requiresGradient
  let statisticsAreComputed = fixedStatistics == nil
  let recorded = output.recorded(from: [input, weight ?? Tensor(0), bias ?? Tensor(0)]) {
    gradient in
    // Per group: Σg and Σg·x̂, with x̂ = (x − mean)·inverseDeviation.
    var gradientSum = [Double](repeating: 0, count: groups.count)
    var gradientDotNormalized = [Double](repeating: 0, count: groups.count)
    savedInput.withUnsafeBufferPointer { source in
      gradient.withUnsafeBufferPointer { outputGradient in
        for plane in 0..<planes {
          let group = groups.group(ofPlane: plane)
          let values = source.baseAddress! + plane * planeSize
          let gradients = outputGradient.baseAddress! + plane * planeSize
          let (planeMean, planeInverse) = (groupMean[group], inverseDeviation[group])
          var sum: Double = 0
          var dot: Double = 0
          for index in 0..<planeSize {
            sum += Double(gradients[index])
            dot += Double(gradients[index] * ((values[index] - planeMean) * planeInverse))
          }
          gradientSum[group] += sum
          gradientDotNormalized[group] += dot
        }
      }
    }

    // Parameters: dweight[c] = Σ g·x̂, dbias[c] = Σ g over the channel's elements.
    var weightGradient = [Float](repeating: 0, count: groups.channels)
    var biasGradient = [Float](repeating: 0, count: groups.channels)
    var weightGradientTotal = [Double](repeating: 0, count: groups.channels)
    var biasGradientTotal = [Double](repeating: 0, count: groups.channels)
    for group in 0..<groups.count {
      let channel = perInstance ? group % groups.channels : group
      weightGradientTotal[channel] += gradientDotNormalized[group]
      biasGradientTotal[channel] += gradientSum[group]
    }
    for channel in 0..<groups.channels {
      weightGradient[channel] = Float(weightGradientTotal[channel])
      biasGradient[channel] = Float(biasGradientTotal[channel])
    }

    // Input: dx = w·r·(g − mean(g) − x̂·mean(g·x̂)) with computed statistics, w·r·g with fixed.
    var inputGradient: Tensor?
    if inputNeedsGradient {
      let groupSize = Double(groups.elementsPerGroup)
      inputGradient = savedInput.withUnsafeBufferPointer { source in
        gradient.withUnsafeBufferPointer { outputGradient in
          Tensor(shape: savedInput.shape) { target in
            for plane in 0..<planes {
              let group = groups.group(ofPlane: plane)
              let channel = groups.channel(ofPlane: plane)
              let (planeMean, planeInverse) = (groupMean[group], inverseDeviation[group])
              let factor = weights[channel] * planeInverse
              let meanGradient = statisticsAreComputed ? Float(gradientSum[group] / groupSize) : 0
              let meanDot =
                statisticsAreComputed ? Float(gradientDotNormalized[group] / groupSize) : 0
              let values = source.baseAddress! + plane * planeSize
              let gradients = outputGradient.baseAddress! + plane * planeSize
              let results = target.baseAddress! + plane * planeSize
              for index in 0..<planeSize {
                let normalized = (values[index] - planeMean) * planeInverse
                results[index] = factor * (gradients[index] - meanGradient - normalized * meanDot)
              }
            }
          }
        }
      }
    }
    return [
      inputGradient,
      Tensor(shape: [groups.channels], scalars: weightGradient),
      Tensor(shape: [groups.channels], scalars: biasGradient),
    ]
  }
  return (recorded, mean, variance)
}

/// Instance normalisation of `[N, C, H, W]` (PyTorch's `InstanceNorm2d`): each `(n, c)` plane
/// is normalised by its own mean and biased variance, then scaled by `weight[c]` and shifted by
/// `bias[c]` when given (`[C]` each, the affine variant).
public func instanceNorm2d(
  _ input: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5
) -> Tensor {
  normalize(
    input, weight: weight, bias: bias, epsilon: epsilon, perInstance: true,
    fixedStatistics: nil, name: "instanceNorm2d"
  ).output
}

/// Batch normalisation of `[N, C, H, W]` (PyTorch's `BatchNorm2d`), normalising each channel
/// over `N·H·W` elements, then applying `weight[c]` and `bias[c]` when given (`[C]` each).
///
/// - In training, the batch's mean and biased variance normalise, and the running averages
///   (`[C]` each) move by `momentum` towards the batch mean and the *unbiased* variance:
///   `running = (1 − momentum)·running + momentum·batch`.
/// - Otherwise, `runningMean` and `runningVariance` normalise and are left unchanged.
public func batchNorm2d(
  _ input: Tensor, weight: Tensor? = nil, bias: Tensor? = nil,
  runningMean: inout Tensor, runningVariance: inout Tensor,
  momentum: Float = 0.1, epsilon: Float = 1e-5, training: Bool
) -> Tensor {
  precondition(input.rank == 4, "batchNorm2d needs [N, C, H, W], got \(input.shape)")
  let channels = input.shape[1]
  precondition(
    runningMean.shape == [channels] && runningVariance.shape == [channels],
    "batchNorm2d running statistics must be [\(channels)], got \(runningMean.shape) and "
      + "\(runningVariance.shape)")
  if !training {
    return normalize(
      input, weight: weight, bias: bias, epsilon: epsilon, perInstance: false,
      fixedStatistics: (runningMean.scalars, runningVariance.scalars), name: "batchNorm2d"
    ).output
  }

  let (output, mean, variance) = normalize(
    input, weight: weight, bias: bias, epsilon: epsilon, perInstance: false,
    fixedStatistics: nil, name: "batchNorm2d")
  let elements = Double(input.count / channels)
  let unbiasing = elements > 1 ? elements / (elements - 1) : 1
  let oldMean = runningMean.scalars
  let oldVariance = runningVariance.scalars
  runningMean.scalars = (0..<channels).map { channel in
    Float((1 - Double(momentum)) * Double(oldMean[channel]) + Double(momentum) * mean[channel])
  }
  runningVariance.scalars = (0..<channels).map { channel in
    Float(
      (1 - Double(momentum)) * Double(oldVariance[channel])
        + Double(momentum) * variance[channel] * unbiasing)
  }
  return output
}
