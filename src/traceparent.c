/* traceparent: placeholder until implemented */
