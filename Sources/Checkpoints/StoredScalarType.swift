/// The element types a checkpoint may store on disk; tensors in memory are always Float32.
public enum StoredScalarType: String, Sendable, CaseIterable {
  /// IEEE 754 binary32 (`torch.float32`, safetensors `F32`).
  case float32 = "F32"
  /// IEEE 754 binary16 (`torch.float16`, safetensors `F16`).
  case float16 = "F16"
  /// bfloat16, the upper half of a binary32 (`torch.bfloat16`, safetensors `BF16`).
  case bfloat16 = "BF16"

  /// Bytes per element.
  public var byteCount: Int { self == .float32 ? 4 : 2 }

  /// Decodes `count` little-endian elements starting at byte `offset` of `bytes`, which the
  /// caller has checked to hold them.
  func decode(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      switch self {
      case .float32:
        for index in 0..<count {
          let bits = bytes.loadUnaligned(fromByteOffset: offset + 4 * index, as: UInt32.self)
          buffer[index] = Float(bitPattern: UInt32(littleEndian: bits))
        }
      case .float16:
        for index in 0..<count {
          let bits = bytes.loadUnaligned(fromByteOffset: offset + 2 * index, as: UInt16.self)
          buffer[index] = HalfPrecision.float(fromHalf: UInt16(littleEndian: bits))
        }
      case .bfloat16:
        for index in 0..<count {
          let bits = bytes.loadUnaligned(fromByteOffset: offset + 2 * index, as: UInt16.self)
          buffer[index] = HalfPrecision.float(fromBFloat: UInt16(littleEndian: bits))
        }
      }
      initialized = count
    }
  }

  /// Appends `scalars` to `bytes` as little-endian elements of this type (rounded to nearest,
  /// ties to even, for the 16-bit types).
  func encode(_ scalars: [Float], into bytes: inout [UInt8]) {
    bytes.reserveCapacity(bytes.count + scalars.count * byteCount)
    switch self {
    case .float32:
      for value in scalars { appendLittleEndian(value.bitPattern, to: &bytes) }
    case .float16:
      for value in scalars { appendLittleEndian(HalfPrecision.half(from: value), to: &bytes) }
    case .bfloat16:
      for value in scalars { appendLittleEndian(HalfPrecision.bfloat(from: value), to: &bytes) }
    }
  }
}

/// Appends the little-endian bytes of `value`.
func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
  withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}
