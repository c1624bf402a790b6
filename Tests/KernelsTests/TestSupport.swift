import Testing

@testable import Kernels

/// A small seeded generator (SplitMix64) for test inputs; reproducible everywhere.
struct TestRandom {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var mixed = state
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return mixed ^ (mixed >> 31)
  }

  /// `count` floats uniform in `[-1, 1)`.
  mutating func uniform(_ count: Int) -> [Float] {
    (0..<count).map { _ in Float(next() >> 40) / Float(1 << 23) - 1 }
  }
}

/// Checks `|actual − expected| ≤ atol + rtol·|expected|` element by element; on failure it
/// reports the worst violation, its index and both values.
func expectClose(
  _ actual: [Float], _ expected: [Float], rtol: Float, atol: Float, _ label: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    actual.count == expected.count, "\(label): \(actual.count) values, expected \(expected.count)",
    sourceLocation: sourceLocation)
  guard actual.count == expected.count else { return }
  var worstExcess: Float = 0
  var worstIndex = -1
  var largestDifference: Float = 0
  for index in actual.indices {
    let difference = abs(actual[index] - expected[index])
    largestDifference = max(largestDifference, difference)
    let excess = difference - (atol + rtol * abs(expected[index]))
    if excess > worstExcess || !difference.isFinite {
      worstExcess = difference.isFinite ? excess : .infinity
      worstIndex = index
    }
  }
  if worstIndex >= 0 {
    let message =
      "\(label): worst difference \(abs(actual[worstIndex] - expected[worstIndex])) at index "
      + "\(worstIndex) (got \(actual[worstIndex]), expected \(expected[worstIndex]); rtol "
      + "\(rtol), atol \(atol)); largest difference overall \(largestDifference)"
    Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
  }
}
