// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"reflect"
	"testing"
)

var eventsBodies = []string{
	`{"accountId":"a","keyId":"k","payloads":["a1.x.y"]}`,
	` { "payloads" : [ "p1" , "p2" ] , "keyId" : "k" , "accountId" : "a" } ` + "\n",
	`{"accountId":"a","keyId":"k","payloads":[]}`,
	`{}`,
	`{"accountId":"a"}`,
	`{"accountId":"a","accountId":"b"}`,
	`{"accountId":"a","keyId":"k","payloads":["p"],"extra":1}`,
	`{"AccountId":"a"}`,
	`{"accountId":null,"keyId":"k","payloads":["p"]}`,
	`{"accountId":"a","keyId":"k","payloads":null}`,
	`{"accountId":"a\u0062","keyId":"k","payloads":["p"]}`,
	`{"accountId":"a\"b"}`,
	`{"accountId":"ä","keyId":"k","payloads":["p"]}`,
	`{"accountId":"a","keyId":"k","payloads":["p",]}`,
	`{"accountId":"a","keyId":"k","payloads":["p"]} {}`,
	`{"accountId":"a","keyId":"k","payloads":["p"]`,
	`{"accountId":"a",}`,
	`{"accountId":1}`,
	`{"payloads":[1]}`,
	`{"payloads":"p"}`,
	`[]`,
	``,
	"{\"accountId\":\"a\tb\"}",
	`{"payloads":["a","b","c","d"]}`,
}

// TestEventsRequestFastDecode: whenever the fast path takes a body, it
// decodes it exactly as encoding/json does.
func TestEventsRequestFastDecode(t *testing.T) {
	taken := 0
	for _, body := range eventsBodies {
		if checkFastDecode(t, body) {
			taken++
		}
	}
	if taken < 5 {
		t.Errorf("the fast path took %d bodies, want at least 5", taken)
	}
}

func FuzzEventsRequestFastDecode(f *testing.F) {
	for _, body := range eventsBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) { checkFastDecode(t, body) })
}

func checkFastDecode(t *testing.T, body string) bool {
	t.Helper()
	var fast eventsRequest
	if !fast.decodeJSONFast([]byte(body)) {
		return false
	}
	var want eventsRequest
	if err := decodeJSON([]byte(body), &want); err != nil {
		t.Errorf("%q: fast path accepted what encoding/json refuses: %v", body, err)
		return true
	}
	if !reflect.DeepEqual(fast, want) {
		t.Errorf("%q: fast path got %#v, encoding/json %#v", body, fast, want)
	}
	return true
}
