/// Finding image files under folders: recursive, sorted, following symbolic links safely, and
/// reporting every entry that cannot be used instead of failing on it or hanging on it.
import CImageCodecs
import Foundation

/// The result of scanning folders for images.
public struct ImageScan: Sendable, Equatable {
  /// Regular files that are images by name (`.png`, `.jpg`, `.jpeg`, `.jpe`, `.jfif`) or by
  /// signature, sorted by path bytes. Whether each decodes is for the decoder to say.
  public var images: [FilePath] = []
  /// Entries that look like images or were asked for but cannot be read, with the reason.
  public var problems: [ScanProblem] = []
  /// Files left out because their names say they are images in formats Transmute does not read
  /// (`.webp`, `.heic`, `.gif`, `.tif`, camera raw files, …; see `otherImageFileExtensions`),
  /// sorted by path bytes: listed so that a caller can say they were left out.
  public var unsupported: [FilePath] = []
}

/// An entry the scanner found unusable: a dangling or looping symbolic link, a FIFO or other
/// special file named like an image, a file named like an image that cannot be read, a folder
/// that cannot be listed, a path that does not exist.
public struct ScanProblem: Sendable, Equatable, CustomStringConvertible {
  public var path: FilePath
  public var reason: String

  public var description: String { "\(path): \(reason)" }
}

/// The file name extensions taken as images without looking inside (lowercase).
public let imageFileExtensions: Set<String> = ["png", "jpg", "jpeg", "jpe", "jfif"]

/// The file name extensions of image formats Transmute does not read (lowercase): files named
/// so, and not PNG or JPEG inside, are listed in `ImageScan.unsupported`.
public let otherImageFileExtensions: Set<String> = [
  "arw", "avif", "bmp", "cr2", "cr3", "dng", "gif", "heic", "heif", "jp2", "jxl", "nef", "orf",
  "psd", "raf", "rw2", "tga", "tif", "tiff", "webp",
]

/// Scans `roots` for image files.
///
/// A root that is a file is listed as an image whatever its name (it was asked for). A root
/// that is a folder is walked recursively: names starting with `.` (hidden files, AppleDouble
/// `._*` files, `.git`) are skipped; symbolic links are followed, with loops detected by device
/// and inode; each folder is visited once. Files named like images that are not regular files
/// (FIFOs, sockets, devices) are reported as problems and never opened, so a FIFO cannot block
/// the scan. Other files are listed when their first bytes are a PNG or JPEG signature.
public func scanImageFiles(in roots: [FilePath]) -> ImageScan {
  var scanner = FolderScanner()
  for root in roots { scanner.scanRoot(root) }
  scanner.result.images.sort()
  scanner.result.unsupported.sort()
  return scanner.result
}

/// Scans one folder (or file) for image files; see `scanImageFiles(in:)` for the rules.
public func scanImageFiles(in root: FilePath) -> ImageScan {
  scanImageFiles(in: [root])
}

/// Scans the folder at `url`; see `scanImageFiles(in:)` for the rules.
public func scanImageFiles(in url: URL) -> ImageScan {
  scanImageFiles(in: [FilePath(url)])
}

private struct DirectoryIdentity: Hashable {
  var device: UInt64
  var inode: UInt64

  init(_ status: stat) {
    device = UInt64(status.st_dev)
    inode = UInt64(status.st_ino)
  }
}

private struct FolderScanner {
  var result = ImageScan()
  var visited: Set<DirectoryIdentity> = []

  mutating func problem(_ path: FilePath, _ reason: String) {
    result.problems.append(ScanProblem(path: path, reason: reason))
  }

  mutating func scanRoot(_ root: FilePath) {
    var status = stat()
    guard root.withCString({ stat($0, &status) }) == 0 else {
      problem(root, describeStatFailure(root, errno: errno))
      return
    }
    switch status.st_mode & S_IFMT {
    case S_IFDIR: walk(root, identity: DirectoryIdentity(status), ancestors: [])
    case S_IFREG: result.images.append(root)
    default: problem(root, "not a regular file (\(fileKindName(status.st_mode & S_IFMT)))")
    }
  }

  mutating func walk(
    _ folder: FilePath, identity: DirectoryIdentity, ancestors: Set<DirectoryIdentity>
  ) {
    guard !visited.contains(identity) else { return }  // reached again through another link
    visited.insert(identity)
    guard let names = listNames(folder) else { return }
    var inside = ancestors
    inside.insert(identity)

    for name in names.sorted() {
      guard name.bytes.first != UInt8(ascii: ".") else { continue }
      let path = folder.appending(name)
      let namedLikeImage = imageFileExtensions.contains(path.pathExtension)

      var status = stat()
      guard path.withCString({ stat($0, &status) }) == 0 else {
        // Only an entry that vanished since the listing is passed over silently: any other
        // failure (a path too long for the system, an I/O error) may hide a folder of images.
        let code = errno
        if namedLikeImage || isSymbolicLink(path) || code != ENOENT {
          problem(path, describeStatFailure(path, errno: code))
        }
        continue
      }
      let type = status.st_mode & S_IFMT
      if type == S_IFDIR {
        let child = DirectoryIdentity(status)
        if inside.contains(child) {
          problem(path, "symbolic link loop (it leads back to a folder that contains it)")
        } else {
          walk(path, identity: child, ancestors: inside)
        }
      } else if type == S_IFREG {
        if namedLikeImage && path.withCString({ access($0, R_OK) }) != 0 {
          problem(path, "cannot read the file: \(errorText())")
        } else if namedLikeImage || hasImageSignature(path) {
          result.images.append(path)
        } else if otherImageFileExtensions.contains(path.pathExtension) {
          result.unsupported.append(path)
        }
      } else if namedLikeImage {
        problem(path, "not a regular file (\(fileKindName(type)))")
      }
    }
  }

  /// The entry names of `folder`, or `nil` (with a problem recorded) when it cannot be listed.
  mutating func listNames(_ folder: FilePath) -> [FilePath]? {
    guard let directory = folder.withCString({ opendir($0) }) else {
      problem(folder, "cannot list the folder: \(errorText())")
      return nil
    }
    defer { closedir(directory) }
    var names: [FilePath] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        FilePath(bytes: raw.prefix { $0 != 0 })
      }
      if name.bytes == [UInt8(ascii: ".")] || name.bytes == Array("..".utf8) { continue }
      names.append(name)
    }
    return names
  }
}

private func isSymbolicLink(_ path: FilePath) -> Bool {
  var status = stat()
  return path.withCString { lstat($0, &status) } == 0 && (status.st_mode & S_IFMT) == S_IFLNK
}

/// Why `stat` failed on `path`, in words (a dangling link is told apart from a missing file).
private func describeStatFailure(_ path: FilePath, errno code: Int32) -> String {
  switch code {
  case ELOOP: return "symbolic link loop (too many levels of links)"
  case ENOENT:
    return isSymbolicLink(path)
      ? "dangling symbolic link (its target does not exist)" : "no such file or folder"
  case EACCES: return "permission denied"
  case ENAMETOOLONG where path.bytes.count >= PATH_MAX:
    return "the path is \(path.bytes.count) bytes long, more than the system's limit of"
      + " \(PATH_MAX); move or rename folders to shorten it"
  default: return String(cString: strerror(code))
  }
}

/// Whether the file starts with a PNG or JPEG signature (reads 8 bytes; regular files only).
private func hasImageSignature(_ path: FilePath) -> Bool {
  let descriptor = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
  guard descriptor >= 0 else { return false }
  defer { close(descriptor) }
  var head = [UInt8](repeating: 0, count: 8)
  let count = head.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, 8) }
  guard count > 0 else { return false }
  return tm_detect_format(head, count) != Int32(TM_FORMAT_UNKNOWN)
}
