/// The random streams of a training run. Every use of randomness draws from its own
/// `RandomGenerator` (Tensors), seeded from the run's seed, the use, and a counter (the epoch
/// for the loader, the iteration for the pools and dropout). So a checkpoint needs only the
/// counters to let `--continue` draw exactly what an uninterrupted run would have drawn.
import Tensors

/// The independent uses of randomness in a run.
public enum RandomStream: UInt64, Sendable {
  /// Initial weights.
  case initialization = 1
  /// The order, pairing, crops and flips of an epoch (counter: the epoch).
  case loader = 2
  /// Image pool A's swaps (counter: the iteration).
  case poolA = 3
  /// Image pool B's swaps (counter: the iteration).
  case poolB = 4
  /// Dropout masks (counter: the iteration).
  case dropout = 5
}

extension RandomGenerator {
  /// The generator of `stream` at `counter` for a run seeded with `seed`.
  public init(seed: UInt64, stream: RandomStream, counter: UInt64 = 0) {
    self.init(seed: RandomGenerator.derivedSeed(seed, stream, counter))
  }

  /// A seed mixed from the three numbers by SplitMix64's finaliser, so that neighbouring
  /// counters give unrelated generators.
  static func derivedSeed(_ seed: UInt64, _ stream: RandomStream, _ counter: UInt64) -> UInt64 {
    func mix(_ value: UInt64) -> UInt64 {
      var z = value &+ 0x9E37_79B9_7F4A_7C15
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    return mix(mix(mix(seed) ^ stream.rawValue) ^ counter)
  }

  /// A whole number drawn uniformly from `range`, by rejection, so that the result depends on
  /// the generator only (not on the standard library's algorithm).
  public mutating func int(in range: ClosedRange<Int>) -> Int {
    let span = UInt64(range.upperBound - range.lowerBound) &+ 1
    if span == 0 { return Int(truncatingIfNeeded: next()) }

    // 2^64 mod span values at the top would make the low results likelier: reject them.
    let excess = (UInt64.max % span &+ 1) % span
    var draw = next()
    while excess != 0 && draw > UInt64.max - excess { draw = next() }
    return range.lowerBound + Int(draw % span)
  }

  /// The numbers `0..<count` in a random order (Fisher–Yates).
  public mutating func permutation(_ count: Int) -> [Int] {
    var order = Array(0..<count)
    if count < 2 { return order }
    for i in stride(from: count - 1, to: 0, by: -1) {
      order.swapAt(i, int(in: 0...i))
    }
    return order
  }
}
