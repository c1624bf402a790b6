import Kernels
import Testing

@testable import Tensors

/// Forward and backward of a few operations on tensors large enough to be split over workers.
private func largeGraphResults() -> [[Float]] {
  var generator = RandomGenerator(seed: 31)
  let input = Tensor.randomNormal(shape: [2, 3, 157, 181], using: &generator).requiringGradient()
  let weight = Tensor.randomUniform(shape: [3], lowerBound: 0.5, upperBound: 2, using: &generator)
    .requiringGradient()
  let padded = reflectionPad2d(input, padding: 2)
  let normalized = relu(instanceNorm2d(padded, weight: weight))
  let resized = upsampleBilinear2d(normalized, scale: 2) + upsampleNearest2d(normalized, scale: 2)
  let output = tanh(resized * 0.5) - sigmoid(resized)
  output.sum().backward()
  return [output.scalars, input.gradient?.scalars ?? [], weight.gradient?.scalars ?? []]
}

@Test func parallelLoopsGiveTheSerialResults() {
  // The split changes which thread computes an element, never how: results are identical.
  let budget = ComputeThreads.threadCount
  ComputeThreads.setThreadCount(1)
  let serial = largeGraphResults()
  ComputeThreads.setThreadCount(max(2, budget))
  let parallel = largeGraphResults()
  ComputeThreads.setThreadCount(budget)
  for (index, (a, b)) in zip(serial, parallel).enumerated() {
    let mismatch = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
    #expect(
      a.count == b.count && mismatch == nil,
      "result \(index): first difference at \(mismatch.map { "\($0.offset): \($0.element)" } ?? "-")"
    )
  }
}
