/// File paths kept as raw bytes, so that names which are not valid UTF-8 (legal on Linux) can
/// still be opened, listed and reported. `URL` and `String` would replace such bytes with U+FFFD
/// and then name a file that does not exist.
import Foundation

/// A file-system path as the bytes the kernel sees (never containing NUL).
public struct FilePath: Hashable, Sendable, Comparable, CustomStringConvertible,
  ExpressibleByStringLiteral
{
  /// The path's bytes, without a terminating NUL.
  public let bytes: [UInt8]

  /// A path from raw bytes. Bytes after a NUL, if any, are dropped (the kernel would ignore them).
  public init(bytes: some Sequence<UInt8>) {
    self.bytes = Array(bytes.prefix { $0 != 0 })
  }

  /// A path from a string, encoded as UTF-8.
  public init(_ string: String) {
    self.init(bytes: string.utf8)
  }

  public init(stringLiteral value: String) {
    self.init(value)
  }

  /// The path of a `file:` URL.
  public init(_ url: URL) {
    self.init(url.path)
  }

  /// The path as text for people: valid UTF-8 as is, any other byte as `\xFF`, and control
  /// characters (a newline in a file name) escaped as `\n`, `\t` or `\x1B`, so that one name
  /// is always one line of a report.
  public var description: String {
    var text = ""
    var index = 0
    while index < bytes.count {
      // Decode one scalar at a time so that invalid bytes can be escaped individually.
      var iterator = bytes[index...].makeIterator()
      var decoder = UTF8()
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar):
        switch scalar {
        case "\n": text += "\\n"
        case "\t": text += "\\t"
        case "\r": text += "\\r"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
          text += "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
        default: text.unicodeScalars.append(scalar)
        }
        index += String(scalar).utf8.count
      case .emptyInput:
        index = bytes.count
      case .error:
        text += "\\x" + String(bytes[index], radix: 16, uppercase: true).leftPadded(to: 2)
        index += 1
      }
    }
    return text
  }

  /// The path as a `String` if its bytes are valid UTF-8.
  public var string: String? {
    String(validating: bytes, as: UTF8.self)
  }

  /// This path followed by `/` and `component`.
  public func appending(_ component: FilePath) -> FilePath {
    if bytes.isEmpty { return component }
    if bytes.last == UInt8(ascii: "/") { return FilePath(bytes: bytes + component.bytes) }
    return FilePath(bytes: bytes + [UInt8(ascii: "/")] + component.bytes)
  }

  /// The part after the last `/` (the whole path when there is none).
  public var lastComponent: FilePath {
    var end = bytes.endIndex
    while end > bytes.startIndex + 1 && bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
    let trimmed = bytes[..<end]
    guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else {
      return FilePath(bytes: trimmed)
    }
    return FilePath(bytes: trimmed[(slash + 1)...])
  }

  /// The folder that holds this path (`.` for a bare name).
  public var parent: FilePath {
    guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
    if slash == bytes.startIndex { return "/" }
    return FilePath(bytes: bytes[..<slash])
  }

  /// The extension of the last component, lowercased, without the dot (`"jpg"`), or "".
  public var pathExtension: String {
    let name = lastComponent.bytes
    guard let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > name.startIndex else { return "" }
    return String(decoding: name[(dot + 1)...], as: UTF8.self).lowercased()
  }

  /// Calls `body` with the path as a NUL-terminated C string.
  public func withCString<Result>(_ body: (UnsafePointer<CChar>) throws -> Result) rethrows
    -> Result
  {
    var terminated = bytes
    terminated.append(0)
    return try terminated.withUnsafeBufferPointer { buffer in
      try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
  }

  public static func < (lhs: FilePath, rhs: FilePath) -> Bool {
    lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
  }
}

extension String {
  /// This text with `0` in front up to `width` characters (`"7"` → `"07"`).
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
