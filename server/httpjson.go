package server

import (
	"errors"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
)

// strictJSON is the gateway's JSON marshaler with one more rule for request
// bodies: a body is exactly one JSON value. Whatever follows it (a second
// request pasted after the first, a botched template) would otherwise be
// dropped without a word, and the caller would believe it had been read.
//
// Responses are written by protoJSON, which writes what JSONPb would, faster,
// and leaves to JSONPb whatever it does not write itself.
type strictJSON struct {
	*runtime.JSONPb
	fast *protoJSON
}

// newStrictJSON is the marshaler for JSONPb's options.
func newStrictJSON(j *runtime.JSONPb) strictJSON {
	return strictJSON{JSONPb: j, fast: protoJSONFor(j.MarshalOptions)}
}

func (m strictJSON) Marshal(v any) ([]byte, error) {
	if p, ok := v.(proto.Message); ok && m.fast != nil {
		if b, ok := m.fast.marshal(p); ok {
			return b, nil
		}
	}
	return m.JSONPb.Marshal(v)
}

func (m strictJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d, ok := m.JSONPb.NewDecoder(r).(runtime.DecoderWrapper)
	if !ok {
		return m.JSONPb.NewDecoder(r)
	}
	return runtime.DecoderFunc(func(v any) error {
		if err := d.Decode(v); err != nil {
			return err
		}
		if _, err := d.Token(); !errors.Is(err, io.EOF) {
			return errors.New("the body holds more than one JSON value; send one request object")
		}
		return nil
	})
}
