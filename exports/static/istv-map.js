
(function () {
  "use strict";
  function data(id) { return JSON.parse(document.getElementById(id).textContent); }
  var hotspots = data("istv-hotspots");
  var background = data("istv-background");
  var config = data("istv-map-config");
  var FILL = "#b2182b", OUTLINE = "#1a1a1a";

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }
  function radius(count) { return config.radius_per_root * Math.sqrt(count); }
  function panel(position, build) {
    var control = L.control({position: position});
    control.onAdd = function () {
      var div = el("div", undefined, "istv-panel");
      build(div);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return control;
  }

  var map = L.map("map", {zoomSnap: 0.25});
  map.fitBounds(config.bounds, {padding: [20, 20]});  // a view first: vector layers need one
  if (config.tiles) {
    L.tileLayer(config.tiles.url, {attribution: config.tiles.attribution, maxZoom: 19})
      .addTo(map);
  }
  map.attributionControl.addAttribution(config.source);

  L.geoJSON(background, {
    style: function () {
      return {color: "#8c8c8c", weight: 1, fillColor: "#f3f3f3", fillOpacity: 0.7};
    },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, {radius: 2.5, stroke: false, fillColor: "#8f8f8f",
        fillOpacity: 1});
    },
    onEachFeature: function (feature, layer) {
      var p = feature.properties || {};
      layer.bindTooltip(el("span", p.name || p.lsoa21cd || ""));
    }
  }).addTo(map);

  var rows = [["Rank", "rank"], ["Place", "place_name"], ["Class", "location_class"],
    ["Assaults", "assaults"], ["Previous period", "previous_assaults"], ["Change", "change"],
    ["Peak day", "peak_weekday"], ["Peak hours", "peak_hours"]];
  function popup(p) {
    var table = el("table", undefined, "istv-popup");
    rows.forEach(function (row) {
      if (!(row[1] in p)) { return; }
      var tr = el("tr");
      tr.appendChild(el("th", row[0]));
      tr.appendChild(el("td", String(p[row[1]]).replace(/_/g, " ")));
      table.appendChild(tr);
    });
    return table;
  }

  var circles = [];
  hotspots.features.forEach(function (feature) {
    var p = feature.properties, c = feature.geometry.coordinates;
    var circle = L.circleMarker([c[1], c[0]], {
      radius: radius(parseInt(p.assaults, 10)), color: OUTLINE, weight: 1.5,
      fillColor: FILL, fillOpacity: 0.8, className: "istv-hotspot"
    });
    circle.bindPopup(popup(p));
    circle.bindTooltip(el("span", p.rank),
      {permanent: true, direction: "center", className: "istv-rank"});
    circle.addTo(map);
    circles.push(circle);
  });

  panel("topright", function (div) {
    div.appendChild(el("h2", "Hotspots"));
    var list = el("ol", undefined, "istv-list");
    hotspots.features.forEach(function (feature, i) {
      var p = feature.properties;
      var item = el("li", p.rank + ". " + p.place_name + " (" + p.assaults + ")");
      item.addEventListener("click", function () {
        map.setView(circles[i].getLatLng(), Math.max(map.getZoom(), 16));
        circles[i].openPopup();
      });
      list.appendChild(item);
    });
    div.appendChild(list);
    config.notes.forEach(function (note) { div.appendChild(el("p", note, "istv-note")); });
  }).addTo(map);

  panel("bottomright", function (div) {
    div.appendChild(el("h2", "Assaults (rounded)"));
    var ns = "http://www.w3.org/2000/svg";
    var biggest = radius(config.legend[config.legend.length - 1]);
    config.legend.forEach(function (count) {
      var r = radius(count), size = 2 * biggest + 4;
      var row = el("div");
      var svg = document.createElementNS(ns, "svg");
      svg.setAttribute("width", size);
      svg.setAttribute("height", 2 * r + 4);
      svg.style.verticalAlign = "middle";
      var circle = document.createElementNS(ns, "circle");
      circle.setAttribute("cx", size / 2);
      circle.setAttribute("cy", r + 2);
      circle.setAttribute("r", r);
      circle.setAttribute("fill", FILL);
      circle.setAttribute("fill-opacity", "0.8");
      circle.setAttribute("stroke", OUTLINE);
      circle.setAttribute("stroke-width", "1.5");
      svg.appendChild(circle);
      row.appendChild(svg);
      row.appendChild(el("span", " " + count));
      div.appendChild(row);
    });
  }).addTo(map);

  L.control.scale({imperial: false}).addTo(map);
})();
