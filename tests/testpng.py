"""Test images for the shell tests: a plain RGB PNG of any size, small on
disk (one repeated row, deflated) however large once decoded."""
import struct
import zlib


def png(w, h):
    def chunk(t, b):
        return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b) & 0xffffffff)
    z = zlib.compressobj(9)
    data = b''.join(z.compress(b'\0' * (w * 3 + 1)) for _ in range(h)) + z.flush()
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', data) + chunk(b'IEND', b''))
