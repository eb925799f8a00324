"""Just enough of the OLE2 compound file format (the container of an .xls workbook) to find the
workbook stream and read it, refusing what a parser would trust blindly."""

from __future__ import annotations

import struct


class Compound:
    """Just enough of the OLE2 compound file format to find the workbook stream and read it.

    It reads the file the way calamine will (names cut at the first NUL, the first match wins,
    4096-byte mini-stream cutoff) and refuses anything calamine would size its buffers from
    without checking: counts beyond the file, chains that loop, streams longer than the file.
    """

    def __init__(self, data: bytes):
        if len(data) < 512:
            raise ValueError("short header")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError("odd sector size")
        self.size = 1 << shift
        sectors = len(data) // self.size
        n_dir, n_fat, first_dir = struct.unpack_from("<III", data, 0x28)
        cutoff, first_mini, n_mini, first_difat, n_difat = struct.unpack_from("<IIIII", data, 0x38)
        if cutoff != 4096 or max(n_dir, n_fat, n_mini, n_difat) > sectors:
            raise ValueError("counts beyond the file")
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < 0xFFFFFFFA]
        per = self.size // 4 - 1
        sector, seen = first_difat, set()
        while sector not in (0xFFFFFFFF, 0xFFFFFFFE):
            if sector in seen or len(seen) > sectors:
                raise ValueError("looping DIFAT")
            seen.add(sector)
            cells = struct.unpack_from(f"<{per + 1}I", self._sector(sector))
            fat_sectors += [s for s in cells[:per] if s < 0xFFFFFFFA]
            sector = cells[per]
        self.fat = []
        for s in fat_sectors[:max(n_fat, 1)]:
            self.fat.extend(struct.unpack_from(f"<{self.size // 4}I", self._sector(s)))
        self.entries = self._directory(self._chain_bytes(first_dir), self.size)
        if not self.entries or any(size > len(data) for _, _, size, _ in self.entries):
            raise ValueError("a stream longer than the file")
        root = self.entries[0]
        self.mini_stream = self._chain_bytes(root[1])[:root[2]] if root[1] < 0xFFFFFFFA else b""
        minifat_bytes = self._chain_bytes(first_mini) if first_mini < 0xFFFFFFFA else b""
        self.minifat = struct.unpack_from(f"<{len(minifat_bytes) // 4}I", minifat_bytes)

    def _sector(self, sector: int) -> bytes:
        start = (sector + 1) * self.size
        if start + self.size > len(self.data):
            raise ValueError("sector past the end")
        return self.data[start:start + self.size]

    def _chain(self, start: int, table) -> list[int]:
        out, seen = [], set()
        while start != 0xFFFFFFFE:
            if start in seen or start >= len(table):
                raise ValueError("broken chain")
            seen.add(start)
            out.append(start)
            start = table[start]
        return out

    def _chain_bytes(self, start: int) -> bytes:
        return b"".join(self._sector(s) for s in self._chain(start, self.fat))

    @staticmethod
    def _directory(raw: bytes, sector_size: int) -> list[tuple[str, int, int, int]]:
        entries = []
        for at in range(0, len(raw) - 127, 128):
            kind = raw[at + 66]
            start = struct.unpack_from("<I", raw, at + 116)[0]
            size = struct.unpack_from("<I" if sector_size == 512 else "<Q", raw, at + 120)[0]
            name = raw[at:at + 64].decode("utf-16-le", "replace").split("\0", 1)[0]
            entries.append((name, start, size, kind))
        return entries

    def names(self) -> dict[str, tuple[str, int, int, int]]:
        """Entries by lower-case name, the first of each name only (as calamine looks them up)."""
        out: dict[str, tuple[str, int, int, int]] = {}
        for entry in self.entries:
            out.setdefault(entry[0].lower(), entry)
        return out

    def workbook(self) -> tuple[str, int, int, int] | None:
        for wanted in ("Workbook", "Book"):
            for entry in self.entries:
                if entry[0] == wanted:
                    return entry
        return None

    def read(self, entry: tuple[str, int, int, int]) -> bytes:
        _, start, size, _ = entry
        if size < 4096:
            mini = b"".join(self.mini_stream[s * 64:(s + 1) * 64] for s in self._chain(start, self.minifat))
            if len(mini) < size:
                raise ValueError("short stream")
            return mini[:size]
        data = self._chain_bytes(start)
        if len(data) < size:
            raise ValueError("short stream")
        return data[:size]
