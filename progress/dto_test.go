package progress_test

import (
	"fmt"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// dtoFamily is a decoded metric family that prints its series.
type dtoFamily struct{ dto.MetricFamily }

func (f *dtoFamily) series() []string {
	var out []string
	for _, m := range f.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		var v float64
		switch {
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		}
		out = append(out, fmt.Sprintf("%s{%s} %s", f.GetName(), strings.Join(labels, ","), strconv.FormatFloat(v, 'g', -1, 64)))
	}
	return out
}
