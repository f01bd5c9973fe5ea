// Command gotemplate-oracle renders sealed-secrets `spec.template.data` test cases with real Go
// `text/template` and Sprig, exactly as the controller sets them up, so that the golden file
// sealops is tested against comes from Go and not from sealops.
//
// Input (stdin): a JSON list of {"name", "template", "data": {key: string}}.
// Output (stdout): the same list, each case with either "result" or "error" added.
//
// Build offline against Debian's packaged sources:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go run tests/gotemplate-oracle/main.go \
//	    < tests/data/gotemplate/cases.in.json > tests/data/gotemplate/cases.json
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"

	"github.com/Masterminds/sprig"
)

type testCase struct {
	Name     string            `json:"name"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data"`
	Result   *string           `json:"result,omitempty"`
	Error    *string           `json:"error,omitempty"`
	// Sealops marks a documented divergence: "error" where sealops refuses what Go renders.
	Sealops *string `json:"sealops,omitempty"`
}

// funcMap is the controller's: Sprig's generic map minus the functions removed by
// sealed-secrets PR #1703 (they leak the controller's environment or reach the network).
func funcMap() template.FuncMap {
	m := sprig.GenericFuncMap()
	for _, name := range []string{"env", "expandenv", "getHostByName"} {
		delete(m, name)
	}
	return template.FuncMap(m)
}

func render(c testCase) (string, error) {
	t, err := template.New(c.Name).Funcs(funcMap()).Parse(c.Template)
	if err != nil {
		return "", err
	}
	data := c.Data
	if data == nil {
		data = map[string]string{}
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return "", err
	}
	return out.String(), nil
}

func main() {
	var cases []testCase
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "reading cases:", err)
		os.Exit(2)
	}
	for i := range cases {
		cases[i].Result, cases[i].Error = nil, nil
		out, err := render(cases[i])
		if err != nil {
			msg := err.Error()
			cases[i].Error = &msg
		} else {
			cases[i].Result = &out
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cases); err != nil {
		fmt.Fprintln(os.Stderr, "writing results:", err)
		os.Exit(2)
	}
}
