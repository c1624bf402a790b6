// Instance and batch normalisation of `[N, C, H, W]` tensors, PyTorch's semantics: biased
// variance for normalising, `y = (x − mean) / √(variance + ε) · weight + bias`.
//
// Statistics come from one pass of shifted sums (Σ(x − s), Σ(x − s)² with `s` near the mean,
// in Float vector lanes per block and Double across blocks), the output from a second pass
// written in place when the input is not shared and not needed by the backward pass. Groups
// and planes are spread over the `ComputeThreads` budget.
import Kernels

/// Which elements share statistics.
private struct NormalizationGroups {
  let batch: Int
  let channels: Int
  let planeSize: Int
  /// One group per `(n, c)` plane (instance norm), else one per channel (batch norm).
  let perInstance: Bool

  var count: Int { perInstance ? batch * channels : channels }
  var planeCount: Int { batch * channels }
  var elementsPerGroup: Int { perInstance ? planeSize : batch * planeSize }
  func group(ofPlane plane: Int) -> Int { perInstance ? plane : plane % channels }
  func channel(ofGroup group: Int) -> Int { perInstance ? group % channels : group }
  /// The planes of `group`, as offsets of their first elements.
  func planeOffsets(ofGroup group: Int) -> [Int] {
    perInstance ? [group * planeSize] : (0..<batch).map { ($0 * channels + group) * planeSize }
  }
  /// Planes per worker so that each worker has enough elements.
  var planesPerWorker: Int { max(1, elementsPerWorker / max(1, planeSize)) }
  var groupsPerWorker: Int { max(1, elementsPerWorker / max(1, elementsPerGroup)) }
}

/// Elements summed in Float lanes before the lanes are added into Double accumulators.
private let blockLength = 4096

/// `(Σ(x − shift), Σ(x − shift)²)` over `count` elements.
private func shiftedSums(_ x: UnsafePointer<Float>, count: Int, shift: Float) -> (Double, Double) {
  var total: Double = 0
  var squares: Double = 0
  var start = 0
  let shiftLanes = SIMD16<Float>(repeating: shift)
  while start < count {
    let end = min(start + blockLength, count)
    var laneTotal = SIMD16<Float>()
    var laneSquares = SIMD16<Float>()
    var index = start
    while index + 16 <= end {
      let deviation =
        UnsafeRawPointer(x + index).loadUnaligned(as: SIMD16<Float>.self) - shiftLanes
      laneTotal += deviation
      laneSquares += deviation * deviation
      index += 16
    }
    var blockTotal = Double(laneTotal.sum())
    var blockSquares = Double(laneSquares.sum())
    while index < end {
      let deviation = x[index] - shift
      blockTotal += Double(deviation)
      blockSquares += Double(deviation * deviation)
      index += 1
    }
    total += blockTotal
    squares += blockSquares
    start = end
  }
  return (total, squares)
}

/// `(Σg, Σg·(x − mean))` over `count` elements.
private func gradientSums(
  _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mean: Float
) -> (Double, Double) {
  var total: Double = 0
  var dot: Double = 0
  var start = 0
  let meanLanes = SIMD16<Float>(repeating: mean)
  while start < count {
    let end = min(start + blockLength, count)
    var laneTotal = SIMD16<Float>()
    var laneDot = SIMD16<Float>()
    var index = start
    while index + 16 <= end {
      let gradient = UnsafeRawPointer(g + index).loadUnaligned(as: SIMD16<Float>.self)
      let deviation = UnsafeRawPointer(x + index).loadUnaligned(as: SIMD16<Float>.self) - meanLanes
      laneTotal += gradient
      laneDot += gradient * deviation
      index += 16
    }
    var blockTotal = Double(laneTotal.sum())
    var blockDot = Double(laneDot.sum())
    while index < end {
      blockTotal += Double(g[index])
      blockDot += Double(g[index] * (x[index] - mean))
      index += 1
    }
    total += blockTotal
    dot += blockDot
    start = end
  }
  return (total, dot)
}

/// Normalises `input` per group with the given or computed statistics, applies the optional
/// per-channel `weight` and `bias` (`[C]`), and records the gradient.
///
/// - Returns: the output and, when the statistics were computed, each group's mean and biased
///   variance.
private func normalize(
  _ input: consuming Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float, perInstance: Bool,
  fixedStatistics: (mean: [Float], variance: [Float])?, rectified: Bool = false, name: String
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
  let planeSize = groups.planeSize

  // Statistics per group.
  var mean = [Double](repeating: 0, count: groups.count)
  var variance = [Double](repeating: 0, count: groups.count)
  if let fixedStatistics {
    mean = fixedStatistics.mean.map(Double.init)
    variance = fixedStatistics.variance.map(Double.init)
  } else {
    input.withUnsafeBufferPointer { source in
      let source = source.baseAddress!
      mean.withUnsafeMutableBufferPointer { mean in
        variance.withUnsafeMutableBufferPointer { variance in
          ComputeThreads.parallelRanges(groups.count, minimumPerWorker: groups.groupsPerWorker) {
            range in
            for group in range {
              let offsets = groups.planeOffsets(ofGroup: group)
              // Shift by a rough mean (of the first elements) against cancellation.
              let probe = min(planeSize, 64)
              var shift: Float = 0
              for index in 0..<probe { shift += source[offsets[0] + index] }
              shift /= Float(probe)
              var total: Double = 0
              var squares: Double = 0
              for offset in offsets {
                let (planeTotal, planeSquares) = shiftedSums(
                  source + offset, count: planeSize, shift: shift)
                total += planeTotal
                squares += planeSquares
              }
              let elements = Double(groups.elementsPerGroup)
              let shiftedMean = total / elements
              mean[group] = Double(shift) + shiftedMean
              variance[group] = max(squares / elements - shiftedMean * shiftedMean, 0)
            }
          }
        }
      }
    }
  }
  let groupMean = mean.map { Float($0) }
  let inverseDeviation = variance.map { Float(1 / ($0 + Double(epsilon)).squareRoot()) }
  let weights = weight?.scalars ?? [Float](repeating: 1, count: groups.channels)
  let biases = bias?.scalars ?? [Float](repeating: 0, count: groups.channels)

  // The backward pass reads the input; otherwise its storage may take the output.
  let nodes = [input.node, weight?.node, bias?.node]
  let inputNeedsGradient = input.node != nil
  let recording = isRecordingGradients && nodes.contains { $0 != nil }
  let savedInput = recording ? input.detached() : nil
  input.node = nil
  let target = input.storageForResult()

  // y = x·scale + shift per plane.
  withExtendedLifetime(input) {
    let source = input.storage.base
    let results = target.base
    ComputeThreads.parallelRanges(groups.planeCount, minimumPerWorker: groups.planesPerWorker) {
      planes in
      for plane in planes {
        let group = groups.group(ofPlane: plane)
        let channel = plane % groups.channels
        let scale = inverseDeviation[group] * weights[channel]
        let shift = biases[channel] - groupMean[group] * scale
        let x = source + plane * planeSize
        let y = results + plane * planeSize
        if rectified {
          for index in 0..<planeSize { y[index] = max(x[index] * scale + shift, 0) }
        } else {
          for index in 0..<planeSize { y[index] = x[index] * scale + shift }
        }
      }
    }
  }
  let output = Tensor(shape: input.shape, storage: target)
  guard let savedInput else { return (output, mean, variance) }

  let statisticsAreComputed = fixedStatistics == nil
  let savedOutput = rectified ? output.detached() : nil
  let recorded = output.recorded(fromNodes: nodes) { outputGradient in
    // Through the fused ReLU first: zero where the output is not positive.
    var gradient = consume outputGradient
    if let savedOutput {
      gradient = combineElements(
        consume gradient, savedOutput, name, LeakyRectifierGradient(slope: 0))
    }
    // Per group: Σg and Σg·x̂, with x̂ = (x − mean)·inverseDeviation.
    var gradientSum = [Double](repeating: 0, count: groups.count)
    var gradientDotNormalized = [Double](repeating: 0, count: groups.count)
    savedInput.withUnsafeBufferPointer { source in
      gradient.withUnsafeBufferPointer { outputGradient in
        let (source, outputGradient) = (source.baseAddress!, outputGradient.baseAddress!)
        gradientSum.withUnsafeMutableBufferPointer { gradientSum in
          gradientDotNormalized.withUnsafeMutableBufferPointer { gradientDot in
            ComputeThreads.parallelRanges(groups.count, minimumPerWorker: groups.groupsPerWorker) {
              range in
              for group in range {
                var total: Double = 0
                var dot: Double = 0
                for offset in groups.planeOffsets(ofGroup: group) {
                  let (planeTotal, planeDot) = gradientSums(
                    outputGradient + offset, source + offset, count: planeSize,
                    mean: groupMean[group])
                  total += planeTotal
                  dot += planeDot
                }
                gradientSum[group] = total
                gradientDot[group] = dot * Double(inverseDeviation[group])
              }
            }
          }
        }
      }
    }

    // Parameters: dweight[c] = Σ g·x̂, dbias[c] = Σ g over the channel's elements.
    var weightGradientTotal = [Double](repeating: 0, count: groups.channels)
    var biasGradientTotal = [Double](repeating: 0, count: groups.channels)
    for group in 0..<groups.count {
      weightGradientTotal[groups.channel(ofGroup: group)] += gradientDotNormalized[group]
      biasGradientTotal[groups.channel(ofGroup: group)] += gradientSum[group]
    }

    // Input: dx = w·r·(g − mean(g) − x̂·mean(g·x̂)) with computed statistics, w·r·g with fixed.
    var inputGradient: Tensor?
    if inputNeedsGradient {
      let groupSize = Double(groups.elementsPerGroup)
      // Each element reads only its own gradient, so dx may overwrite an unshared gradient.
      let target = gradient.storageForResult()
      withExtendedLifetime((savedInput, gradient)) {
        let (source, outputGradient) = (savedInput.storage.base, gradient.storage.base)
        let results = target.base
        ComputeThreads.parallelRanges(groups.planeCount, minimumPerWorker: groups.planesPerWorker) {
          planes in
          for plane in planes {
            let group = groups.group(ofPlane: plane)
            let (planeMean, planeInverse) = (groupMean[group], inverseDeviation[group])
            let factor = weights[plane % groups.channels] * planeInverse
            let meanGradient = statisticsAreComputed ? Float(gradientSum[group] / groupSize) : 0
            let meanDot =
              statisticsAreComputed ? Float(gradientDotNormalized[group] / groupSize) : 0
            // dx = factor·g − factor·meanGradient − factor·r·meanDot·(x − mean)
            let offsetTerm = factor * meanGradient
            let slope = factor * planeInverse * meanDot
            let x = source + plane * planeSize
            let g = outputGradient + plane * planeSize
            let dx = results + plane * planeSize
            for index in 0..<planeSize {
              dx[index] = factor * g[index] - offsetTerm - slope * (x[index] - planeMean)
            }
          }
        }
      }
      inputGradient = Tensor(shape: savedInput.shape, storage: target)
    }
    return [
      inputGradient,
      Tensor(shape: [groups.channels], scalars: weightGradientTotal.map { Float($0) }),
      Tensor(shape: [groups.channels], scalars: biasGradientTotal.map { Float($0) }),
    ]
  }
  return (recorded, mean, variance)
}

/// Instance normalisation of `[N, C, H, W]` (PyTorch's `InstanceNorm2d`): each `(n, c)` plane
/// is normalised by its own mean and biased variance, then scaled by `weight[c]` and shifted by
/// `bias[c]` when given (`[C]` each, the affine variant). The output takes the input's storage
/// when the input is handed over unshared and no gradient needs it.
public func instanceNorm2d(
  _ input: consuming Tensor, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5
) -> Tensor {
  normalize(
    input, weight: weight, bias: bias, epsilon: epsilon, perInstance: true,
    fixedStatistics: nil, name: "instanceNorm2d"
  ).output
}

/// `relu(instanceNorm2d(input, weight: weight, bias: bias, epsilon: epsilon))` in one pass
/// over the elements, with the same results and gradients as the two operations.
public func instanceNormRelu2d(
  _ input: consuming Tensor, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5
) -> Tensor {
  normalize(
    input, weight: weight, bias: bias, epsilon: epsilon, perInstance: true,
    fixedStatistics: nil, rectified: true, name: "instanceNormRelu2d"
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
  _ input: consuming Tensor, weight: Tensor? = nil, bias: Tensor? = nil,
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

  let elements = Double(input.count / max(channels, 1))
  let (output, mean, variance) = normalize(
    input, weight: weight, bias: bias, epsilon: epsilon, perInstance: false,
    fixedStatistics: nil, name: "batchNorm2d")
  let unbiasing = elements > 1 ? elements / (elements - 1) : 1
  let oldMean = runningMean.scalars
  let oldVariance = runningVariance.scalars
  let keep = 1 - Double(momentum)
  runningMean.scalars = (0..<channels).map { channel in
    Float(keep * Double(oldMean[channel]) + Double(momentum) * mean[channel])
  }
  runningVariance.scalars = (0..<channels).map { channel in
    Float(keep * Double(oldVariance[channel]) + Double(momentum) * variance[channel] * unbiasing)
  }
  return output
}
