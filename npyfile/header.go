package npyfile

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// magic is the first six bytes of every .npy file.
const magic = "\x93NUMPY"

// maxHeaderLen is the largest header, in bytes, that Read accepts. A header
// of the three keys with a 64-dimensional shape needs under 2 KiB, so the
// limit only rejects garbage before it is read into memory. NumPy 1.24
// rejects headers over 10000 characters unless pickles are allowed.
const maxHeaderLen = 1 << 20

// dtype is a parsed array-interface type string such as '<f8'.
type dtype struct {
	kind      byte // 'f', 'i', 'u' or 'b'
	size      int  // item size in bytes
	bigEndian bool // byte order of the items in the file
}

// nativeBigEndian reports whether this machine stores integers big-endian.
// NumPy reads '=' and '|' as the reading machine's byte order, and so does
// this package.
var nativeBigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// kindNames names the NumPy dtype kinds that this package rejects.
var kindNames = map[byte]string{
	'c': "complex",
	'O': "object",
	'S': "byte string",
	'a': "byte string",
	'U': "unicode string",
	'V': "void (raw or structured)",
	'M': "datetime",
	'm': "timedelta",
}

// parseDtype parses an array-interface type string: an optional byte order
// ('<', '>', '=', '|' or '!'), a kind letter and the item size in bytes.
// The returned message is empty on success.
func parseDtype(s string) (dtype, string) {
	d := dtype{bigEndian: nativeBigEndian}
	rest := s
	if rest != "" {
		switch rest[0] {
		case '<':
			d.bigEndian = false
			rest = rest[1:]
		case '>', '!':
			d.bigEndian = true
			rest = rest[1:]
		case '=', '|':
			rest = rest[1:]
		}
	}
	if rest == "" {
		return d, fmt.Sprintf("unsupported dtype %q: missing the type letter", s)
	}
	d.kind = rest[0]
	if name, ok := kindNames[d.kind]; ok {
		return d, fmt.Sprintf("unsupported dtype %q: %s arrays cannot be converted to floating point", s, name)
	}
	size, err := strconv.Atoi(rest[1:])
	if err != nil || size <= 0 || strings.ContainsFunc(rest[1:], notDigit) {
		return d, fmt.Sprintf("unsupported dtype %q: expected a type string such as '<f8' or '|u1'", s)
	}
	d.size = size

	var ok bool
	switch d.kind {
	case 'f':
		ok = size == 2 || size == 4 || size == 8
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'b':
		ok = size == 1
	default:
		return d, fmt.Sprintf("unsupported dtype %q: expected a float ('f'), signed ('i') or unsigned ('u') integer or bool ('b') type", s)
	}
	if !ok {
		return d, fmt.Sprintf("unsupported dtype %q: no %d-byte %s type is supported", s, size, string(d.kind))
	}
	return d, ""
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

// headerFields is the content of a .npy header dictionary.
type headerFields struct {
	descr   string
	fortran bool
	shape   []int
}

// headerError is a parse failure of the header dictionary. dtype is true
// when the header is well formed but describes a dtype that cannot be read.
type headerError struct {
	msg   string
	dtype bool
}

// headerParser reads the Python dictionary literal of a .npy header, such as
//
//	{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
//
// The keys may come in any order. Integers may carry the 'L' suffix that
// Python 2 wrote. Everything after the closing brace must be spaces and a
// final newline.
type headerParser struct {
	s   string
	pos int
}

// parseHeader parses the header text that follows the length field.
func parseHeader(text string) (headerFields, *headerError) {
	var h headerFields
	if !strings.HasSuffix(text, "\n") {
		return h, &headerError{msg: "header does not end with a newline"}
	}
	p := &headerParser{s: text}
	p.skipSpace()
	if !p.consume('{') {
		return h, p.errorf("header does not start with '{'")
	}

	seen := map[string]bool{}
	for {
		p.skipSpace()
		if p.consume('}') {
			break
		}
		key, err := p.parseString()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, p.errorf("header has the key %q twice", key)
		}
		seen[key] = true
		p.skipSpace()
		if !p.consume(':') {
			return h, p.errorf("expected ':' after the key %q", key)
		}
		p.skipSpace()
		switch key {
		case "descr":
			if err := p.parseDescr(&h); err != nil {
				return h, err
			}
		case "fortran_order":
			if err := p.parseBool(&h.fortran); err != nil {
				return h, err
			}
		case "shape":
			if err := p.parseShape(&h); err != nil {
				return h, err
			}
		default:
			return h, p.errorf("unexpected key %q; expected only 'descr', 'fortran_order' and 'shape'", key)
		}
		p.skipSpace()
		if p.consume(',') {
			continue
		}
		if !p.consume('}') {
			return h, p.errorf("expected ',' or '}' after the value of %q", key)
		}
		break
	}

	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if !seen[key] {
			return h, &headerError{msg: fmt.Sprintf("header has no %q key", key)}
		}
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return h, p.errorf("unexpected text after the header dictionary")
	}
	return h, nil
}

// errorf returns a format error that quotes the header near the current
// position.
func (p *headerParser) errorf(format string, args ...any) *headerError {
	const maxQuote = 40
	at := p.s[min(p.pos, len(p.s)):]
	if len(at) > maxQuote {
		at = at[:maxQuote] + "..."
	}
	msg := fmt.Sprintf(format, args...)
	return &headerError{msg: fmt.Sprintf("invalid header: %s at byte %d (%q)", msg, p.pos, at)}
}

func (p *headerParser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *headerParser) consume(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// parseString reads a quoted string without escape sequences, which no
// dtype or header key contains.
func (p *headerParser) parseString() (string, *headerError) {
	if p.pos >= len(p.s) || (p.s[p.pos] != '\'' && p.s[p.pos] != '"') {
		return "", p.errorf("expected a quoted string")
	}
	quote := p.s[p.pos]
	start := p.pos + 1
	for i := start; i < len(p.s); i++ {
		switch p.s[i] {
		case quote:
			p.pos = i + 1
			return p.s[start:i], nil
		case '\\', '\n':
			p.pos = i
			return "", p.errorf("unsupported character in a string")
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *headerParser) parseDescr(h *headerFields) *headerError {
	if p.pos < len(p.s) && (p.s[p.pos] == '[' || p.s[p.pos] == '{') {
		e := p.errorf("unsupported structured dtype")
		e.dtype = true
		return e
	}
	s, err := p.parseString()
	if err != nil {
		return err
	}
	h.descr = s
	return nil
}

func (p *headerParser) parseBool(v *bool) *headerError {
	switch {
	case strings.HasPrefix(p.s[p.pos:], "True"):
		*v = true
		p.pos += len("True")
	case strings.HasPrefix(p.s[p.pos:], "False"):
		*v = false
		p.pos += len("False")
	default:
		return p.errorf("fortran_order is not True or False")
	}
	return nil
}

// parseShape reads a tuple of non-negative integers. As in Python, "(3)" is
// an integer and not a tuple, so a 1-D shape must be written "(3,)".
func (p *headerParser) parseShape(h *headerFields) *headerError {
	if !p.consume('(') {
		return p.errorf("shape is not a tuple")
	}
	shape := []int{}
	sawComma := false
	for {
		p.skipSpace()
		if p.consume(')') {
			break
		}
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		if p.pos == start {
			return p.errorf("shape holds a value that is not a non-negative integer")
		}
		digits := p.s[start:p.pos]
		n, err := strconv.Atoi(digits)
		if err != nil {
			p.pos = start
			return p.errorf("shape dimension %s is larger than %d", digits, math.MaxInt)
		}
		if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
			p.pos++
		}
		shape = append(shape, n)
		p.skipSpace()
		if p.consume(',') {
			sawComma = true
			continue
		}
		if !p.consume(')') {
			return p.errorf("expected ',' or ')' in the shape")
		}
		break
	}
	if len(shape) == 1 && !sawComma {
		return p.errorf("shape (%d) is an integer, not a tuple; a 1-D shape is written (%d,)", shape[0], shape[0])
	}
	h.shape = shape
	return nil
}

// shapeString formats a shape as Python writes a tuple: (), (3,) or (2, 3).
func shapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, n := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(n))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// elementCount returns the product of shape, or false if a dimension is
// negative or the product overflows int. A shape with a zero dimension has
// no elements, whatever the other dimensions are.
func elementCount(shape []int) (int, bool) {
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			return 0, true
		}
	}
	n := 1
	for _, d := range shape {
		if n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}
