/// The random streams of a training run: seeded, the same on every machine, and `Codable`, so
/// that a checkpoint can store where each stream stands and `--continue` picks it up exactly.
///
/// The generator is xoshiro256** (Blackman and Vigna), seeded through SplitMix64. Bounded draws
/// use rejection so that they are unbiased and depend only on the state, never on the
/// standard library's algorithms.
public struct TrainingRandom: RandomNumberGenerator, Codable, Sendable, Equatable {
  /// The four words of xoshiro256** state; never all zero.
  public private(set) var state: [UInt64]

  /// A generator whose stream is fixed by `seed`, `stream` and `counter`: each use of
  /// randomness (the loader's epoch `counter`, a pool's iteration `counter`) draws from its own
  /// generator, so that resuming needs only the counters.
  public init(seed: UInt64, stream: RandomStream = .loader, counter: UInt64 = 0) {
    var mix = seed ^ (stream.rawValue &* 0xD1B5_4A32_D192_ED03) ^ (counter &* 0x8CB9_2BA7_2F3D_8DD7)
    var words = [UInt64]()
    for _ in 0..<4 {
      mix &+= 0x9E37_79B9_7F4A_7C15
      var z = mix
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      words.append(z ^ (z >> 31))
    }
    if words.allSatisfy({ $0 == 0 }) { words[0] = 1 }
    state = words
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotate(state[1] &* 5, 7) &* 9
    let t = state[1] << 17
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = rotate(state[3], 45)
    return result
  }

  /// A number drawn uniformly from [0, 1), with 53 random bits.
  public mutating func nextUniformDouble() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A whole number drawn uniformly from `range`.
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

  private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// The independent uses of randomness in a run, each with its own generators.
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
