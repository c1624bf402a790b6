/// Path helpers for planning outputs, on raw-byte `FilePath`s (so names that are not UTF-8
/// survive): names and extensions, and canonical forms that let two spellings of one file
/// (`./a/../b.png`, a linked folder) be recognised as the same file.
import Foundation
import ImageIO

extension FilePath {
  /// The last component split at its last dot: `photo.JPG` → (`photo`, `JPG`). A name without a
  /// dot, or one that only starts with one (`.hidden`), has an empty extension.
  var stemAndExtension: (stem: FilePath, extension: String) {
    let name = lastComponent.bytes
    guard let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > name.startIndex else {
      return (FilePath(bytes: name), "")
    }
    return (
      FilePath(bytes: name[..<dot]), String(decoding: name[(dot + 1)...], as: UTF8.self)
    )
  }

  /// This path with `suffix` appended to its bytes (`photo` + `.png`).
  func adding(_ suffix: String) -> FilePath {
    FilePath(bytes: bytes + Array(suffix.utf8))
  }

  /// The folder part of a relative path, or nil when it is a bare name.
  var folderPart: FilePath? {
    bytes.contains(UInt8(ascii: "/")) ? parent : nil
  }

  /// `self` made absolute against the working directory, with `.`, `..` and repeated slashes
  /// removed lexically (links are not followed).
  var absoluteNormalized: FilePath {
    let slash = UInt8(ascii: "/")
    var absolute = bytes
    if absolute.first != slash {
      absolute = Array(FileManager.default.currentDirectoryPath.utf8) + [slash] + absolute
    }
    var parts: [ArraySlice<UInt8>] = []
    for part in absolute.split(separator: slash, omittingEmptySubsequences: true) {
      if part.elementsEqual([UInt8(ascii: ".")]) { continue }
      if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
        if !parts.isEmpty { parts.removeLast() }
        continue
      }
      parts.append(part)
    }
    var result: [UInt8] = []
    for part in parts { result += [slash] + part }
    return FilePath(bytes: result.isEmpty ? [slash] : result)
  }

  /// The resolved form of a path that may not exist yet: the longest existing leading part has
  /// its links resolved (`realpath`), the rest is appended as written. With `resolvingLast`
  /// false the last component is kept as written even when it is a link.
  func canonical(resolvingLast: Bool = true) -> FilePath {
    let normalized = absoluteNormalized
    if !resolvingLast && normalized.bytes.count > 1 {
      return normalized.parent.canonical().appending(normalized.lastComponent)
    }
    var existing = normalized
    var rest: [FilePath] = []
    while true {
      if let resolved = existing.resolvedLinks {
        return rest.reversed().reduce(resolved) { $0.appending($1) }
      }
      if existing.bytes.count <= 1 { break }
      rest.append(existing.lastComponent)
      existing = existing.parent
    }
    return rest.reversed().reduce(FilePath("/")) { $0.appending($1) }
  }

  /// `realpath(3)`: the absolute path with every link resolved, or nil when it does not exist.
  var resolvedLinks: FilePath? {
    withCString { path -> FilePath? in
      guard let resolved = realpath(path, nil) else { return nil }
      defer { free(resolved) }
      return FilePath(
        bytes: UnsafeBufferPointer(start: resolved, count: strlen(resolved)).map {
          UInt8(bitPattern: $0)
        })
    }
  }

  /// Whether `self` lies strictly inside the folder `folder` (both absolute and normalized).
  func isInside(_ folder: FilePath) -> Bool {
    let prefix = folder.bytes.last == UInt8(ascii: "/") ? folder.bytes : folder.bytes + [47]
    return bytes.count > prefix.count && bytes.starts(with: prefix)
  }

  /// What is at this path, without following a final link: nil when nothing is.
  var fileKind: FileKind? {
    withCString { path -> FileKind? in
      var status = stat()
      guard lstat(path, &status) == 0 else { return nil }
      switch status.st_mode & S_IFMT {
      case S_IFDIR: return .folder
      case S_IFLNK:
        var target = stat()
        guard stat(path, &target) == 0 else { return .danglingLink }
        return target.st_mode & S_IFMT == S_IFDIR ? .folder : .file
      default: return .file
      }
    }
  }
}

/// What a path names, as far as planning cares.
enum FileKind: Equatable {
  case file
  case folder
  case danglingLink
}
