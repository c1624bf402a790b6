/// The failure of reading or writing a checkpoint file, with the file and the reason.
public struct CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What went wrong, for callers that act on it (tests, the CLI's exit status).
  public enum Kind: Sendable, Equatable {
    /// The file could not be opened or read.
    case unreadable
    /// The file ends before the data its own header promises.
    case truncated
    /// The bytes do not follow the format (bad header, bad offsets, bad pickle opcode, …).
    case malformed
    /// The file is well formed but uses a feature Transmute does not read (a dtype, an opcode).
    case unsupported
    /// A pickle asked for a global outside the few a `state_dict` of tensors needs.
    case forbiddenGlobal
    /// The tensors do not fit the architecture that was asked for.
    case architectureMismatch
    /// The destination could not be written.
    case unwritable
  }

  /// What went wrong.
  public let kind: Kind
  /// The file concerned, as given by the caller.
  public let path: String
  /// A sentence for the user: what was found, and what was expected.
  public let reason: String

  public init(_ kind: Kind, path: String, reason: String) {
    self.kind = kind
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): \(reason)" }
}
