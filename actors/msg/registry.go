package msg

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Code is a message type's stable wire identifier. Once shipped, a code keeps
// its meaning forever.
type Code uint16

type entry struct {
	code   Code
	name   string
	typ    reflect.Type
	encode func(e *msgpack.Encoder, m any) error
	decode func(d *msgpack.Decoder) (any, error)
}

// The registry is filled from package init functions only, before any
// goroutine can read it, so it needs no lock.
var (
	byCode = map[Code]*entry{}
	byType = map[reflect.Type]*entry{}
)

// Register binds message type T to code. It must be called from an init
// function; registering a code or a type twice is a programming error and
// panics at start-up, long before any message flows.
func Register[T any](code Code) {
	var zero T
	typ := reflect.TypeOf(zero)
	if typ == nil || typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Interface {
		panic(fmt.Sprintf("msg: register code %d: message types must be non-pointer concrete types, got %v", code, typ))
	}
	if code == 0 {
		panic(fmt.Sprintf("msg: register %v: code 0 is reserved", typ))
	}
	if old, ok := byCode[code]; ok {
		panic(fmt.Sprintf("msg: code %d registered twice (%s and %v)", code, old.name, typ))
	}
	if old, ok := byType[typ]; ok {
		panic(fmt.Sprintf("msg: type %v registered twice (codes %d and %d)", typ, old.code, code))
	}
	e := &entry{code: code, name: typ.String(), typ: typ, encode: encodeReflect, decode: decodeReflect[T]}
	// Types with hand-written codecs are called directly: going through
	// Encoder.Encode and Decoder.Decode would still cost a reflect.Value and
	// a type-cache lookup per message, for the same bytes and results.
	if _, ok := any(zero).(msgpack.CustomEncoder); ok {
		e.encode = encodeCustom
	}
	if _, ok := any(&zero).(msgpack.CustomDecoder); ok {
		e.decode = decodeCustom[T]
	}
	byCode[code] = e
	byType[typ] = e
}

func encodeReflect(e *msgpack.Encoder, m any) error { return e.Encode(m) }

func decodeReflect[T any](d *msgpack.Decoder) (any, error) {
	var v T
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// encodeCustom does what msgpack does for a non-pointer type whose value
// implements CustomEncoder.
func encodeCustom(e *msgpack.Encoder, m any) error {
	return m.(msgpack.CustomEncoder).EncodeMsgpack(e)
}

// decodeCustom does what msgpack does for a non-pointer type whose pointer
// implements CustomDecoder: nil decodes to the zero value without calling
// the method.
func decodeCustom[T any](d *msgpack.Decoder) (any, error) {
	var v T
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	if c == msgpcode.Nil {
		return v, d.DecodeNil()
	}
	if err := any(&v).(msgpack.CustomDecoder).DecodeMsgpack(d); err != nil {
		return nil, err
	}
	return v, nil
}

// CodeOf returns the code registered for m's type.
func CodeOf(m any) (Code, bool) {
	e, ok := byType[reflect.TypeOf(m)]
	if !ok {
		return 0, false
	}
	return e.code, true
}

// Name returns the Go type name registered for code, or "" when unknown.
func Name(c Code) string {
	if e, ok := byCode[c]; ok {
		return e.name
	}
	return ""
}

// Codes lists every registered code in ascending order.
func Codes() []Code {
	out := make([]Code, 0, len(byCode))
	for c := range byCode {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
