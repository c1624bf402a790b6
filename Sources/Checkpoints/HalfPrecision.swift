/// Conversions between Float32 and the two 16-bit float formats checkpoints use, written on bit
/// patterns so that they behave the same on every platform (Swift's `Float16` is missing on some).
enum HalfPrecision {
  /// The Float32 value of an IEEE 754 binary16 bit pattern (exact).
  static func float(fromHalf bits: UInt16) -> Float {
    let sign: UInt32 = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1f
    let mantissa = UInt32(bits & 0x3ff)
    if exponent == 0 {
      // Zero or subnormal: mantissa × 2⁻²⁴, exactly representable in Float32.
      let magnitude = Float(mantissa) * 0x1p-24
      return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 0x1f {
      return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
  }

  /// The binary16 bit pattern nearest to `value` (ties to even; overflow to infinity; NaN kept
  /// quiet).
  static func half(from value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xff)
    let mantissa = bits & 0x7f_ffff
    if exponent == 0xff {
      return sign | 0x7c00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0)
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1f { return sign | 0x7c00 }
    if halfExponent <= 0 {
      // Subnormal result: value = significand × 2^(halfExponent - 38), kept as m × 2⁻²⁴.
      if halfExponent < -10 { return sign }
      let significand = mantissa | 0x80_0000
      let shift = UInt32(14 - halfExponent)
      return sign | UInt16(roundedShift(significand, by: shift))
    }
    let truncated = UInt16(halfExponent << 10) | UInt16(mantissa >> 13)
    let remainder = mantissa & 0x1fff
    let roundsUp = remainder > 0x1000 || (remainder == 0x1000 && truncated & 1 == 1)
    // A carry out of the mantissa moves into the exponent, which is the right result (up to ∞).
    return sign | (roundsUp ? truncated + 1 : truncated)
  }

  /// The Float32 value of a bfloat16 bit pattern (exact).
  static func float(fromBFloat bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
  }

  /// The bfloat16 bit pattern nearest to `value` (ties to even; NaN kept quiet).
  static func bfloat(from value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x40 }
    return UInt16(truncatingIfNeeded: roundedShift(bits, by: 16))
  }

  /// `value >> shift`, rounded to nearest with ties to even.
  private static func roundedShift(_ value: UInt32, by shift: UInt32) -> UInt32 {
    let kept = value >> shift
    let remainder = value & ((1 << shift) - 1)
    let halfway: UInt32 = 1 << (shift - 1)
    if remainder > halfway || (remainder == halfway && kept & 1 == 1) { return kept + 1 }
    return kept
  }
}
