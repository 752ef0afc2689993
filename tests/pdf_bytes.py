"""Tiny PDFs written by hand (no library): one page of text, N pages, and hostile variants for the report tests."""
from __future__ import annotations


def make_pdf(text: str = "Report", *, pages: int = 1) -> bytes:
    """A valid PDF of `pages` pages, each showing `text` (a one-page one is about 600 bytes)."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    for i in range(pages):
        stream = f"BT /F1 24 Tf 72 720 Td ({safe} {i + 1}) Tj ET".encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {5 + 2 * i} 0 R >>")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream")
    return assemble(objects)


def assemble(objects: list[str], *, trailer_extra: str = "") -> bytes:
    """Number the objects from 1, write the cross-reference table with their byte offsets and the trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra}>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def huge_page_tree(count: int = 2_000_000) -> bytes:
    """A hostile PDF: one page tree node listing the same page `count` times (a small file, a huge tree)."""
    kids = " ".join(["3 0 R"] * count)
    return assemble(["<< /Type /Catalog /Pages 2 0 R >>",
                     f"<< /Type /Pages /Kids [{kids}] /Count {count} >>",
                     "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"])
