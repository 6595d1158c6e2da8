/* route_explain: placeholder until implemented */
