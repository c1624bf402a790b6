import Foundation
import Tensors

/// A safetensors file: named tensors and a string-to-string metadata map.
///
/// The format is an 8-byte little-endian header length `N`, `N` bytes of JSON describing each
/// tensor (`dtype`, `shape`, `data_offsets` into the data that follows) plus an optional
/// `__metadata__` object, then the raw little-endian data. Reading validates the header before
/// building any tensor: the header length is within limits and the file, the JSON is strict (no
/// duplicate names, integer sizes), each tensor's byte range matches its shape and dtype, and the
/// ranges tile the data exactly (no overlaps, no gaps, nothing past the end).
public struct SafetensorsFile: Sendable {
  /// The tensors by name; in memory always Float32.
  public var tensors: [String: Tensor]
  /// The `__metadata__` map (empty when the file has none).
  public var metadata: [String: String]
  /// For a file that was read, the element type each tensor was stored as.
  public private(set) var storedTypes: [String: StoredScalarType]

  /// The largest header accepted, as in the reference implementation (100 MB).
  public static let maximumHeaderSize = 100_000_000

  /// Creates a file's contents in memory, to be written with `write(to:as:)`.
  public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
    self.storedTypes = [:]
  }

  /// Reads and validates the safetensors file at `url`.
  public init(contentsOf url: URL) throws(CheckpointError) {
    try self.init(bytes: readWholeFile(url), path: url.path)
  }

  /// Parses and validates safetensors bytes; `path` names them in errors.
  public init(bytes: [UInt8], path: String) throws(CheckpointError) {
    func malformed(_ reason: String) -> CheckpointError {
      CheckpointError(.malformed, path: path, reason: reason)
    }

    // Header length, then the header itself.
    guard bytes.count >= 8 else {
      throw CheckpointError(
        .truncated, path: path,
        reason: "file has \(bytes.count) bytes, too short for a safetensors header length")
    }
    let declaredSize = bytes.withUnsafeBytes {
      UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))
    }
    guard declaredSize <= UInt64(Self.maximumHeaderSize) else {
      throw malformed(
        "header length \(declaredSize) exceeds the limit of \(Self.maximumHeaderSize) bytes;"
          + " this is not a safetensors file")
    }
    let headerSize = Int(declaredSize)
    guard 8 + headerSize <= bytes.count else {
      throw CheckpointError(
        .truncated, path: path,
        reason: "header declares \(headerSize) bytes but the file has only \(bytes.count - 8)"
          + " after the length")
    }
    guard headerSize >= 2, bytes[8] == UInt8(ascii: "{") else {
      throw malformed("header does not start with a JSON object")
    }
    let header: JSONValue
    do {
      header = try JSONReader.parse(Array(bytes[8..<8 + headerSize]))
    } catch {
      throw malformed("header JSON is invalid at byte \(error.offset): \(error.reason)")
    }
    guard case .object(let members) = header else {
      throw malformed("header is not a JSON object")
    }

    // Each tensor's description, checked on its own.
    let dataStart = 8 + headerSize
    let dataSize = bytes.count - dataStart
    var metadata: [String: String] = [:]
    var entries: [(name: String, type: StoredScalarType, shape: [Int], begin: Int, end: Int)] = []
    for (name, value) in members {
      if name == "__metadata__" {
        guard case .object(let pairs) = value else {
          throw malformed("__metadata__ is \(value.kindName), expected an object of strings")
        }
        for (key, item) in pairs {
          guard case .string(let text) = item else {
            throw malformed("__metadata__ entry \"\(key)\" is \(item.kindName), expected a string")
          }
          metadata[key] = text
        }
        continue
      }
      let entry = try Self.describe(name, value, path: path)
      entries.append((name, entry.type, entry.shape, entry.begin, entry.end))
    }

    // The byte ranges must tile the data exactly.
    entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    var expectedBegin = 0
    for entry in entries {
      guard entry.begin == expectedBegin else {
        if entry.begin < expectedBegin {
          throw malformed(
            "tensor \"\(entry.name)\" data_offsets [\(entry.begin), \(entry.end)] overlap the"
              + " previous tensor, which ends at \(expectedBegin)")
        }
        throw malformed(
          "tensor \"\(entry.name)\" data_offsets [\(entry.begin), \(entry.end)] leave a gap"
            + " after byte \(expectedBegin)")
      }
      expectedBegin = entry.end
    }
    if expectedBegin > dataSize {
      throw CheckpointError(
        .truncated, path: path,
        reason: "tensor data needs \(expectedBegin) bytes after the header but the file has"
          + " \(dataSize)")
    }
    guard expectedBegin == dataSize else {
      throw malformed(
        "tensors cover \(expectedBegin) bytes of data but \(dataSize) follow the header")
    }

    // Everything checks out: decode.
    var tensors: [String: Tensor] = [:]
    var storedTypes: [String: StoredScalarType] = [:]
    bytes.withUnsafeBytes { raw in
      for entry in entries {
        let count = (entry.end - entry.begin) / entry.type.byteCount
        let scalars = entry.type.decode(raw, offset: dataStart + entry.begin, count: count)
        tensors[entry.name] = Tensor(shape: entry.shape, scalars: scalars)
        storedTypes[entry.name] = entry.type
      }
    }
    self.tensors = tensors
    self.metadata = metadata
    self.storedTypes = storedTypes
  }

  /// Validates one tensor's header entry: exactly `dtype`, `shape` and `data_offsets`, a
  /// supported dtype, non-negative integer extents, and a byte range as long as the shape needs.
  private static func describe(_ name: String, _ value: JSONValue, path: String)
    throws(CheckpointError) -> (type: StoredScalarType, shape: [Int], begin: Int, end: Int)
  {
    func malformed(_ reason: String) -> CheckpointError {
      CheckpointError(.malformed, path: path, reason: "tensor \"\(name)\": \(reason)")
    }
    guard case .object(let fields) = value else {
      throw malformed("description is \(value.kindName), expected an object")
    }
    var dtype: String?
    var shape: [Int]?
    var offsets: [Int]?
    for (key, field) in fields {
      switch key {
      case "dtype":
        guard case .string(let text) = field else { throw malformed("dtype is not a string") }
        dtype = text
      case "shape":
        guard case .array(let items) = field else { throw malformed("shape is not an array") }
        var extents: [Int] = []
        for item in items {
          guard let extent = item.nonNegativeInteger else {
            throw malformed("shape \(field.serialized) has an entry that is not a size")
          }
          extents.append(extent)
        }
        shape = extents
      case "data_offsets":
        guard case .array(let items) = field, items.count == 2,
          let begin = items[0].nonNegativeInteger, let end = items[1].nonNegativeInteger
        else {
          throw malformed("data_offsets \(field.serialized) is not two byte offsets")
        }
        offsets = [begin, end]
      default:
        throw malformed("unexpected field \"\(key)\"")
      }
    }
    guard let dtype, let shape, let offsets else {
      throw malformed("needs dtype, shape and data_offsets")
    }
    guard let type = StoredScalarType(rawValue: dtype) else {
      throw CheckpointError(
        .unsupported, path: path,
        reason: "tensor \"\(name)\" has dtype \(dtype); Transmute reads F32, F16 and BF16")
    }
    guard offsets[0] <= offsets[1] else {
      throw malformed("data_offsets [\(offsets[0]), \(offsets[1])] end before they begin")
    }
    var byteCount = type.byteCount
    for extent in shape {
      let (product, overflow) = byteCount.multipliedReportingOverflow(by: extent)
      guard !overflow else { throw malformed("shape \(shape) is too large") }
      byteCount = product
    }
    guard offsets[1] - offsets[0] == byteCount else {
      throw malformed(
        "shape \(shape) of \(dtype) needs \(byteCount) bytes but data_offsets"
          + " [\(offsets[0]), \(offsets[1])] give \(offsets[1] - offsets[0])")
    }
    return (type, shape, offsets[0], offsets[1])
  }

  /// The file's bytes with every tensor stored as `type`: the header lists `__metadata__`
  /// first (when not empty), then the tensors by name, their data in the same order, and is
  /// padded with spaces to a multiple of 8 bytes so that the data is aligned.
  public func encoded(as type: StoredScalarType = .float32) -> [UInt8] {
    var members: [(key: String, value: JSONValue)] = []
    if !metadata.isEmpty {
      let pairs = metadata.keys.sorted().map { (key: $0, value: JSONValue.string(metadata[$0]!)) }
      members.append(("__metadata__", .object(pairs)))
    }
    let names = tensors.keys.sorted()
    var offset = 0
    for name in names {
      let tensor = tensors[name]!
      let end = offset + tensor.scalars.count * type.byteCount
      members.append(
        (
          name,
          .object([
            ("dtype", .string(type.rawValue)),
            ("shape", .array(tensor.shape.map { .number(String($0)) })),
            ("data_offsets", .array([.number(String(offset)), .number(String(end))])),
          ])
        ))
      offset = end
    }
    var header = Array(JSONValue.object(members).serialized.utf8)
    header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

    var bytes: [UInt8] = []
    bytes.reserveCapacity(8 + header.count + offset)
    appendLittleEndian(UInt64(header.count), to: &bytes)
    bytes.append(contentsOf: header)
    for name in names { type.encode(tensors[name]!.scalars, into: &bytes) }
    return bytes
  }

  /// Writes the file atomically to `url`, every tensor stored as `type`.
  public func write(to url: URL, as type: StoredScalarType = .float32) throws(CheckpointError) {
    try AtomicFile.write(encoded(as: type), to: url)
  }
}

/// The bytes of the file at `url`, or an error naming it and the system's reason. The file is
/// opened without blocking and must be a regular file, so that a FIFO cannot hang the reader
/// and a folder or a link loop is called what it is.
func readWholeFile(_ url: URL) throws(CheckpointError) -> [UInt8] {
  func failure(_ reason: String) -> CheckpointError {
    CheckpointError(.unreadable, path: url.path, reason: "cannot read the file: \(reason)")
  }
  let descriptor = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
  guard descriptor >= 0 else { throw failure(String(cString: strerror(errno))) }
  defer { close(descriptor) }
  var status = stat()
  guard fstat(descriptor, &status) == 0 else { throw failure(String(cString: strerror(errno))) }
  switch status.st_mode & S_IFMT {
  case S_IFREG: break
  case S_IFDIR: throw failure("it is a folder, not a file")
  case S_IFIFO: throw failure("it is a FIFO, not a regular file")
  default: throw failure("it is not a regular file")
  }

  let size = Int(status.st_size)
  var bytes = [UInt8](repeating: 0, count: size)
  var filled = 0
  while filled < size {
    let got = bytes.withUnsafeMutableBytes {
      read(descriptor, $0.baseAddress! + filled, size - filled)
    }
    if got < 0 && errno == EINTR { continue }
    guard got >= 0 else { throw failure(String(cString: strerror(errno))) }
    if got == 0 { break }  // the file shrank while it was read: what is there is checked later
    filled += got
  }
  return filled == size ? bytes : Array(bytes.prefix(filled))
}
