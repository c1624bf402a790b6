/// A seeded pseudo-random generator whose output depends on the seed only: the same seed gives
/// the same numbers on every run, machine and platform.
///
/// The bits come from xoshiro256** (state filled from the seed by SplitMix64). Uniform floats
/// take the top 24 bits; normal samples use Marsaglia's polar method with a logarithm computed
/// here from IEEE basic operations only, so that no platform math library enters the result.
/// The numbers differ from PyTorch's generator (which cannot be reproduced portably).
public struct RandomGenerator: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  /// The second value of the last polar-method pair, handed out by the next normal draw.
  private var spareNormal: Double?

  /// Creates a generator from a seed.
  public init(seed: UInt64) {
    var mixer = seed
    func splitMix() -> UInt64 {
      mixer &+= 0x9E37_79B9_7F4A_7C15
      var value = mixer
      value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
      value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
      return value ^ (value >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotateLeft(state.1 &* 5, by: 7) &* 9
    let shifted = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= shifted
    state.3 = rotateLeft(state.3, by: 45)
    return result
  }

  /// A uniform sample in `[0, 1)` with 24 random bits.
  public mutating func nextUniformFloat() -> Float {
    Float(next() >> 40) * 0x1p-24
  }

  /// A uniform sample in `[0, 1)` with 53 random bits.
  public mutating func nextUniformDouble() -> Double {
    Double(next() >> 11) * 0x1p-53
  }

  /// A sample of the standard normal distribution.
  public mutating func nextNormal() -> Double {
    if let spare = spareNormal {
      spareNormal = nil
      return spare
    }
    while true {
      let u = 2 * nextUniformDouble() - 1
      let v = 2 * nextUniformDouble() - 1
      let radiusSquared = u * u + v * v
      guard radiusSquared < 1, radiusSquared > 0 else { continue }
      let factor = (-2 * portableLogarithm(radiusSquared) / radiusSquared).squareRoot()
      spareNormal = v * factor
      return u * factor
    }
  }

  private func rotateLeft(_ value: UInt64, by amount: UInt64) -> UInt64 {
    (value << amount) | (value >> (64 - amount))
  }
}

/// The natural logarithm of a positive finite `x`, from exact exponent extraction and a series
/// in IEEE additions, multiplications and divisions (correct to about 1e-16 relative), so that
/// it gives the same bits everywhere.
func portableLogarithm(_ x: Double) -> Double {
  precondition(x > 0 && x.isFinite, "portableLogarithm of \(x)")
  var exponent = Double(x.exponent)
  var mantissa = x.significand  // [1, 2)
  if mantissa > 1.4142135623730951 {
    mantissa /= 2
    exponent += 1
  }

  // log(m) = 2·atanh(s) = 2·(s + s³/3 + s⁵/5 + …) with s = (m − 1)/(m + 1), |s| < 0.172.
  let s = (mantissa - 1) / (mantissa + 1)
  let sSquared = s * s
  var power = s
  var series = 0.0
  var denominator = 1.0
  for _ in 0..<13 {
    series += power / denominator
    power *= sSquared
    denominator += 2
  }
  return 2 * series + exponent * 0.693_147_180_559_945_3
}

extension Tensor {
  /// Samples of a normal distribution, drawn in row-major order from `generator`.
  public static func randomNormal(
    shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
    using generator: inout RandomGenerator
  ) -> Tensor {
    var values = [Float](repeating: 0, count: shape.reduce(1, *))
    for index in values.indices {
      values[index] = mean + standardDeviation * Float(generator.nextNormal())
    }
    return Tensor(shape: shape, scalars: values)
  }

  /// Samples of a uniform distribution over `[lowerBound, upperBound)`, drawn in row-major
  /// order from `generator`.
  public static func randomUniform(
    shape: [Int], lowerBound: Float = 0, upperBound: Float = 1,
    using generator: inout RandomGenerator
  ) -> Tensor {
    precondition(lowerBound <= upperBound, "uniform bounds \(lowerBound) > \(upperBound)")
    var values = [Float](repeating: 0, count: shape.reduce(1, *))
    for index in values.indices {
      values[index] = lowerBound + (upperBound - lowerBound) * generator.nextUniformFloat()
    }
    return Tensor(shape: shape, scalars: values)
  }
}
