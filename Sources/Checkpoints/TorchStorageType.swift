/// The typed storages a PyTorch checkpoint may hold, read into Float32.
///
/// Floating storages convert exactly (float64 is rounded to nearest); integer storages (such
/// as batch norm's `num_batches_tracked`) convert exactly up to 2²⁴ and are rounded beyond.
public enum TorchStorageType: String, Sendable, CaseIterable {
  case float32 = "FloatStorage"
  case float16 = "HalfStorage"
  case bfloat16 = "BFloat16Storage"
  case float64 = "DoubleStorage"
  case int64 = "LongStorage"
  case int32 = "IntStorage"

  /// The type for a class name of the `torch` module (`FloatStorage`, …).
  init?(className: String) { self.init(rawValue: className) }

  /// Bytes per element.
  var byteCount: Int {
    switch self {
    case .float16, .bfloat16: return 2
    case .float32, .int32: return 4
    case .float64, .int64: return 8
    }
  }

  /// Decodes `count` little-endian elements from `bytes`, which holds at least that many.
  func decode(_ bytes: UnsafeRawBufferPointer, count: Int) -> [Float] {
    switch self {
    case .float32: return StoredScalarType.float32.decode(bytes, offset: 0, count: count)
    case .float16: return StoredScalarType.float16.decode(bytes, offset: 0, count: count)
    case .bfloat16: return StoredScalarType.bfloat16.decode(bytes, offset: 0, count: count)
    case .float64:
      return (0..<count).map { index in
        Float(
          Double(
            bitPattern: UInt64(
              littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))))
      }
    case .int64:
      return (0..<count).map { index in
        Float(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * index, as: Int64.self)))
      }
    case .int32:
      return (0..<count).map { index in
        Float(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * index, as: Int32.self)))
      }
    }
  }
}
