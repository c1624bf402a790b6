/// Raw-byte paths and the error texts built from them.
import Testing

@testable import ImageIO

@Suite struct FilePathTests {
  @Test func componentsAndExtensions() {
    let path: FilePath = "/data/horses/IMG_0001.JPG"
    #expect(path.lastComponent == "IMG_0001.JPG")
    #expect(path.parent == "/data/horses")
    #expect(path.pathExtension == "jpg")
    #expect(FilePath("photo").parent == ".")
    #expect(FilePath("/photo.png").parent == "/")
    #expect(FilePath(".hidden").pathExtension == "")
    #expect(FilePath("folder/").lastComponent == "folder")
    #expect(FilePath("a").appending("b.png") == "a/b.png")
    #expect(FilePath("a/").appending("b.png") == "a/b.png")
  }

  @Test func invalidUTF8IsKeptAndEscapedForPeople() {
    let path = FilePath(bytes: Array("dir/caf".utf8) + [0xE9] + Array(" ☃.png".utf8))
    #expect(path.bytes.count == 16)
    #expect(path.string == nil)
    #expect(path.description == "dir/caf\\xE9 ☃.png")
    #expect(FilePath("ok ☃.png").string == "ok ☃.png")
  }

  @Test func controlCharactersAreEscapedSoANameStaysOneLine() {
    let path = FilePath(bytes: Array("a\nb\tc\u{1B}[31m\u{7F}.png".utf8))
    #expect(path.description == "a\\nb\\tc\\x1B[31m\\x7F.png")
    #expect(!path.description.contains("\n"))
    #expect(FilePath(bytes: Array("x\u{1}".utf8)).description == "x\\x01")
  }

  @Test func errorsReadPathColonReason() {
    let path = FilePath(bytes: [0xFF] + Array(".png".utf8))
    #expect(
      ImageIOError.emptyFile(path: path).description == "\\xFF.png: the file is empty (0 bytes)")
    #expect(
      ImageIOError.notAnImage(path: "a.png", detected: "a GIF image").description
        == "a.png: not a PNG or JPEG file (it looks like a GIF image)")
    #expect(
      ImageIOError.tooLarge(path: "b.jpg", width: 20000, height: 10000, maxPixels: 100_000_000)
        .description
        == "b.jpg: the image is 20000×10000 = 200000000 pixels, above the limit of 100000000 "
        + "pixels, set to keep memory bounded (see docs/IMAGES.md)")
  }
}
