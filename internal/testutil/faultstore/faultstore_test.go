package faultstore

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

// TestEveryMethodFails: while the fault is on, every method of every interface the Store
// stands for (but Subscribe and Close) returns ErrLost, none forgotten in methods.go; switched
// off, calls reach the wrapped store again.
func TestEveryMethodFails(t *testing.T) {
	s := New(storeenv.OpenStore(t, filepath.Join(t.TempDir(), "posthorn.db")))
	s.Fail(true)
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	errType := reflect.TypeOf((*error)(nil)).Elem()
	v := reflect.ValueOf(s)
	for _, it := range []reflect.Type{
		reflect.TypeOf((*storeenv.Store)(nil)).Elem(),
		reflect.TypeOf((*store.GreylistStore)(nil)).Elem(),
	} {
		for i := range it.NumMethod() {
			m := it.Method(i)
			if m.Name == "Subscribe" || m.Name == "Close" {
				continue
			}
			args := make([]reflect.Value, m.Type.NumIn())
			for j := range args {
				if in := m.Type.In(j); in == ctxType {
					args[j] = reflect.ValueOf(context.Background())
				} else {
					args[j] = reflect.Zero(in)
				}
			}
			var out []reflect.Value
			if m.Type.IsVariadic() {
				out = v.MethodByName(m.Name).CallSlice(args)
			} else {
				out = v.MethodByName(m.Name).Call(args)
			}
			last := out[len(out)-1]
			if last.Type() != errType {
				t.Errorf("%s returns no error", m.Name)
				continue
			}
			if err, _ := last.Interface().(error); !errors.Is(err, ErrLost) || !store.IsTemporary(err) {
				t.Errorf("%s with the fault on: %v, want ErrLost", m.Name, err)
			}
		}
	}
	if s.Failed() == 0 {
		t.Fatal("no call counted as failed")
	}
	s.Fail(false)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping with the fault off: %v", err)
	}
}
